-- How much of the history behind a pin its readers see: off (the default), messages, full.
ALTER TABLE pins ADD COLUMN history TEXT NOT NULL DEFAULT 'off';
