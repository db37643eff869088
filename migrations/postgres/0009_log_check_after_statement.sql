-- The check that the log only grows by appending runs after the statement that moved the head,
-- not before it: a group commit may write its events and the new head in one statement (each
-- part a data-modifying WITH), and only an AFTER trigger sees the events that statement inserted.
-- The check itself is unchanged, and it still aborts the whole statement when it fails.
DROP TRIGGER log_state_only_grows ON log_state;
CREATE TRIGGER log_state_only_grows AFTER UPDATE ON log_state
FOR EACH ROW EXECUTE FUNCTION clearroom_log_only_grows();
