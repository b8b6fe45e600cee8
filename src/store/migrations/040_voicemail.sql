-- Voicemail messages: one row per message left, the audio in a WAV file under the data folder
-- (voicemail/<extension>/<timestamp>-<call id>.wav), the path kept relative to that folder.
CREATE TABLE voicemail_messages (
  id           INTEGER PRIMARY KEY,
  account_id   TEXT    NOT NULL,
  extension    TEXT    NOT NULL,
  call_id      TEXT    NOT NULL,
  caller_name  TEXT    NOT NULL,
  caller       TEXT    NOT NULL,
  path         TEXT    NOT NULL,
  received_at  INTEGER NOT NULL,
  duration_ms  INTEGER NOT NULL,
  heard        INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX voicemail_messages_account ON voicemail_messages (account_id, received_at);
