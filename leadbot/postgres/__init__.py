"""PostgreSQL backend whose connections never wait for the server for ever (see base.py)."""
