-- Per site (issue 17): what a banned visitor's widget does ('hide' or 'message'), and
-- which optional kinds are masked before anything is stored (card numbers always are).
ALTER TABLE sites ADD COLUMN banned_behaviour TEXT NOT NULL DEFAULT 'hide' CHECK (banned_behaviour IN ('hide', 'message'));
ALTER TABLE sites ADD COLUMN mask_emails BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE sites ADD COLUMN mask_phones BOOLEAN NOT NULL DEFAULT FALSE;
