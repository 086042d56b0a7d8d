-- Where a contact last connected from (an ISO 3166-1 alpha-2 code from GeoIP), kept beside
-- the browser, OS and language so the contact panel and exports have it.
ALTER TABLE contacts ADD COLUMN country TEXT;
