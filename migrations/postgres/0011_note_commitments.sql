-- A private note's place and text are bound in the log by an HMAC under a key of its own, kept
-- here with the note (security defect 5: an unsalted hash of "<path>\n<lines>" was recovered from
-- the pin's file list in a few guesses). NULL for comments, findings and notes made before.
ALTER TABLE comments ADD COLUMN commitment_key TEXT;
