-- Secrets the server made itself (passwords left out of the config, the Digest nonce key), kept across restarts.
CREATE TABLE secrets (
  key        TEXT PRIMARY KEY,
  value      TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
