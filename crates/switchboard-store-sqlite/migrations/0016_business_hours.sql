-- Business hours (issue 14) of sites and teams, as JSON text:
-- {"time_zone": "Europe/Istanbul", "weekly": [{"day": 1, "open": "09:00", "close": "17:00"}],
--  "holidays": [{"date": "2027-01-01", "name": "…"}]}. NULL: always open.
ALTER TABLE sites ADD COLUMN business_hours TEXT;
ALTER TABLE teams ADD COLUMN business_hours TEXT;
