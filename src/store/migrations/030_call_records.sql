-- One row per origination: who asked for what, what was dialed, each leg's ring/answer/end times and final SIP
-- status, why it ended. `state` is the call machine's whole state (JSON): with it a later process can close a call
-- this one left open, down to sending BYE in its dialogs (Call-ID, tags, remote target, route set, CSeq).
CREATE TABLE call_records (
  call_id          TEXT    PRIMARY KEY,
  account_id       TEXT    NOT NULL,
  requested_by     TEXT    NOT NULL,
  method           TEXT    NOT NULL,
  request          TEXT    NOT NULL,
  dialed_first     TEXT    NOT NULL,
  dialed_second    TEXT    NOT NULL,
  phase            TEXT    NOT NULL,
  live             INTEGER NOT NULL,
  started_at       INTEGER NOT NULL,
  first_ring_at    INTEGER,
  first_answer_at  INTEGER,
  first_end_at     INTEGER,
  first_status     INTEGER,
  first_outcome    TEXT,
  second_ring_at   INTEGER,
  second_answer_at INTEGER,
  second_end_at    INTEGER,
  second_status    INTEGER,
  second_outcome   TEXT,
  bridged_at       INTEGER,
  ended_at         INTEGER,
  end_reason       TEXT,
  state            TEXT    NOT NULL
) STRICT;
CREATE INDEX call_records_live ON call_records (live) WHERE live = 1;
CREATE INDEX call_records_started_at ON call_records (started_at);
