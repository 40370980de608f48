-- gvx schema, version 5: the activity log ages out in the order it was written.
--
-- Rows are appended with the time of the verification, so rowid order is time order, and
-- cleanup takes the oldest rows by rowid (gvx_purge_expired: those past retention among the
-- oldest batch). The index on `at` alone served only that, and cost every verification a write
-- to one more page. /activity reads by token (gvx_activity_key), refusals by their own index.
DROP INDEX IF EXISTS gvx_activity_at;
