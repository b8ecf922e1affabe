# leadbot image: web (gunicorn), worker (`manage.py db_worker`) and scheduler (cron), see
# docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# psycopg[binary] ships its own libpq. Debian's cron runs the scheduled commands in
# docker-compose.yml's scheduler service (the healthchecks use python, nothing else).
RUN apt-get update \
    && apt-get install -y --no-install-recommends cron \
    && rm -rf /var/lib/apt/lists/*

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# The manifest static storage (DJANGO_DEBUG off) needs collected files. Settings refuse to load
# without strong values; these throwaway ones exist only for this build step, never at run time.
RUN DATABASE_URL=postgres://build@localhost/build \
    DJANGO_SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    WHATSAPP_APP_SECRET="$(python -c 'import secrets; print(secrets.token_hex(16))')" \
    DJANGO_ALLOWED_HOSTS=build \
    python manage.py collectstatic --noinput

RUN useradd --system --uid 10001 --home-dir /app leadbot
USER leadbot

EXPOSE 8000
ENV BIND=0.0.0.0:8000
CMD ["gunicorn", "leadbot.wsgi", "--config", "leadbot/gunicorn.conf.py"]
