"""The durable store: tables, migrations and the functions that read and write them.

Times are stored as UTC epoch seconds (floats) and source versions as integer
microseconds, so SQLite and PostgreSQL compare them identically with no time zone
handling in SQL.
"""
