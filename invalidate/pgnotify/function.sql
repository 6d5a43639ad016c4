-- sorcery_notify announces every change to a realtime table on a PostgreSQL channel, for the
-- invalidation sources of gosorcery (package invalidate/pgnotify). Attach it to a table as an
-- AFTER ... FOR EACH ROW trigger with arguments (object type [, channel [, id column]]):
--
--   CREATE TRIGGER sorcery_notify AFTER INSERT OR UPDATE OR DELETE ON ps_endpoints
--       FOR EACH ROW EXECUTE FUNCTION sorcery_notify('endpoint');
--
-- The channel defaults to sorcery_invalidate, the id column to id. INSERT and UPDATE announce
-- the row's id changed, DELETE announces it deleted, and an UPDATE that changes the id announces
-- the old id deleted and the new one changed. The payload is gosorcery's wire encoding, version 1:
--   {"v" : 1, "type" : "endpoint", "id" : "alice", "change" : "changed"}
-- Notifications are sent when the transaction commits, and not at all when it rolls back.
CREATE OR REPLACE FUNCTION sorcery_notify() RETURNS trigger
LANGUAGE plpgsql AS $sorcery_notify$
DECLARE
	object_type text := TG_ARGV[0];
	channel     text := coalesce(TG_ARGV[1], 'sorcery_invalidate');
	id_column   text := coalesce(TG_ARGV[2], 'id');
	old_id      text;
	new_id      text;
BEGIN
	IF object_type IS NULL OR object_type = '' THEN
		RAISE EXCEPTION 'sorcery_notify: the trigger on % needs the object type as its first argument', TG_TABLE_NAME;
	END IF;
	IF TG_OP IN ('UPDATE', 'DELETE') THEN
		old_id := to_jsonb(OLD) ->> id_column;
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		new_id := to_jsonb(NEW) ->> id_column;
	END IF;
	IF old_id <> '' AND old_id IS DISTINCT FROM new_id THEN
		PERFORM pg_notify(channel, json_build_object('v', 1, 'type', object_type, 'id', old_id, 'change', 'deleted')::text);
	END IF;
	IF new_id <> '' THEN
		PERFORM pg_notify(channel, json_build_object('v', 1, 'type', object_type, 'id', new_id, 'change', 'changed')::text);
	END IF;
	RETURN NULL;
END
$sorcery_notify$;
