-- Retention per site (issue 17): conversations, their messages and attachments, page
-- views and tracked events older than this many days are deleted by a daily job.
-- NULL keeps everything forever.
ALTER TABLE sites ADD COLUMN retention_days INTEGER CHECK (retention_days BETWEEN 1 AND 3650);
