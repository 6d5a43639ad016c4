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
-- The id announced is the object's id, not the column as stored: Asterisk's realtime drivers
-- (and gosorcery's sqldb) store ';' as ^3B and '^' as ^5E, so a PJSIP contact "1001;@a1b2" is
-- the row "1001^3B@a1b2"; every ^XX (two hexadecimal digits) is decoded to the byte it names
-- before the id is announced, as those drivers decode it when they read.
CREATE OR REPLACE FUNCTION sorcery_notify() RETURNS trigger
LANGUAGE plpgsql AS $sorcery_notify$
DECLARE
	object_type text := TG_ARGV[0];
	channel     text := coalesce(TG_ARGV[1], 'sorcery_invalidate');
	id_column   text := coalesce(TG_ARGV[2], 'id');
	old_id      text;
	new_id      text;
	pass        int;
	raw         bytea;
	decoded     bytea;
	i           int;
	hi          int;
	lo          int;
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
	-- Decode ^XX escapes in both ids (pass 1: old, pass 2: new); bounded by the id's length.
	FOR pass IN 1..2 LOOP
		IF pass = 1 THEN raw := convert_to(old_id, 'UTF8'); ELSE raw := convert_to(new_id, 'UTF8'); END IF;
		CONTINUE WHEN raw IS NULL OR position('\x5e'::bytea IN raw) = 0;
		decoded := ''::bytea;
		i := 0;
		WHILE i < length(raw) LOOP
			hi := CASE WHEN i + 2 < length(raw) THEN get_byte(raw, i + 1) END;
			lo := CASE WHEN i + 2 < length(raw) THEN get_byte(raw, i + 2) END;
			IF get_byte(raw, i) = 94
				AND (hi BETWEEN 48 AND 57 OR hi BETWEEN 65 AND 70 OR hi BETWEEN 97 AND 102)
				AND (lo BETWEEN 48 AND 57 OR lo BETWEEN 65 AND 70 OR lo BETWEEN 97 AND 102) THEN
				decoded := decoded || decode(chr(hi) || chr(lo), 'hex');
				i := i + 3;
			ELSE
				decoded := decoded || substring(raw FROM i + 1 FOR 1);
				i := i + 1;
			END IF;
		END LOOP;
		BEGIN -- an escape that decodes to invalid UTF-8 leaves the id as stored: never fail the write
			IF pass = 1 THEN old_id := convert_from(decoded, 'UTF8'); ELSE new_id := convert_from(decoded, 'UTF8'); END IF;
		EXCEPTION WHEN character_not_in_repertoire OR untranslatable_character THEN
			NULL;
		END;
	END LOOP;
	IF old_id <> '' AND old_id IS DISTINCT FROM new_id THEN
		PERFORM pg_notify(channel, json_build_object('v', 1, 'type', object_type, 'id', old_id, 'change', 'deleted')::text);
	END IF;
	IF new_id <> '' THEN
		PERFORM pg_notify(channel, json_build_object('v', 1, 'type', object_type, 'id', new_id, 'change', 'changed')::text);
	END IF;
	RETURN NULL;
END
$sorcery_notify$;
