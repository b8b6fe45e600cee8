-- Registrar bindings (RFC 3261 §10.3): one row per Contact of an extension, with the address the REGISTER came
-- from, so a restart loses no registered phone and a phone behind NAT is reached where it registered from.
CREATE TABLE registrations (
  account_id       TEXT    NOT NULL,
  contact_key      TEXT    NOT NULL,
  contact          TEXT    NOT NULL,
  call_id          TEXT    NOT NULL,
  cseq             INTEGER NOT NULL,
  expires_at       INTEGER NOT NULL,
  registered_at    INTEGER NOT NULL,
  source_transport TEXT    NOT NULL,
  source_host      TEXT    NOT NULL,
  source_port      INTEGER NOT NULL,
  q                REAL,
  user_agent       TEXT,
  PRIMARY KEY (account_id, contact_key)
) STRICT;
CREATE INDEX registrations_expires_at ON registrations (expires_at);
