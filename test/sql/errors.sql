-- Every function against bad input: each gives NULL or an error naming the argument, and no
-- bad call writes anything.
.open errors.db
.load @EXT@
.mode list
SELECT 'setup', length(gvx_create('alice', 'good token') ->> 'key');
-- gvx_create
SELECT gvx_create();
SELECT gvx_create('alice');
SELECT gvx_create('alice', 'a', 1, 'p', '{}', NULL, 'extra');
SELECT gvx_create(NULL, 'name ok');
SELECT gvx_create('alice', NULL);
SELECT gvx_create(42, 'name ok');
SELECT gvx_create(x'616c696365', 'name ok');
SELECT gvx_create('alice', 3.5);
SELECT gvx_create('', 'name ok');
SELECT gvx_create('alice', 'ab');
SELECT gvx_create('alice', '');
SELECT gvx_create('alice', printf('%.51c', 'n'));
SELECT gvx_create('alice', 'nul' || char(0) || 'byte');
SELECT gvx_create('alice', CAST(x'6e616d65ff' AS TEXT));
SELECT gvx_create('alice', printf('%.5000c', 'n'));
SELECT gvx_create('alice', 'name ok', 'tomorrow');
SELECT gvx_create('alice', 'name ok', 1.5);
SELECT gvx_create('alice', 'name ok', 1000);
SELECT gvx_create('alice', 'name ok', NULL, 'bad prefix');
SELECT gvx_create('alice', 'name ok', NULL, printf('%.33c', 'p'));
SELECT gvx_create('alice', 'name ok', NULL, 'x''; DROP TABLE apikey; --');
SELECT gvx_create('alice', 'name ok', NULL, NULL, '[1,2]');
SELECT gvx_create('alice', 'name ok', NULL, NULL, '{"broken"');
SELECT gvx_create(printf('%.300c', 'u'), 'name ok');
SELECT 'quotes are data', gvx_create('o''brien"; DROP TABLE apikey; --', 'Robert''); DROP TABLE apikey;--') ->> 'name';
-- gvx_verify and gvx_check
SELECT 'null token', quote(gvx_verify(NULL)), quote(gvx_check(NULL));
SELECT gvx_verify();
SELECT gvx_verify('a', 'b', 'c', 'd');
SELECT gvx_verify(12345);
SELECT gvx_verify(x'00');
SELECT gvx_verify(printf('%.513c', 'g'));
SELECT gvx_verify('gvx_' || char(0) || 'abc');
SELECT gvx_verify(CAST(x'677678ff' AS TEXT));
SELECT gvx_verify('gvx_x', 7);
SELECT gvx_check('gvx_x', '1.2.3.4', x'00');
SELECT 'empty', quote(gvx_verify(''));
SELECT 'unknown', quote(gvx_verify('gvx_' || printf('%.64c', 'A')));
SELECT 'injection', quote(gvx_verify(''' OR 1=1 --'));
SELECT 'check unknown', gvx_check('gvx_unknown');
-- gvx_revoke
SELECT 'revoke null', quote(gvx_revoke(NULL));
SELECT gvx_revoke();
SELECT gvx_revoke(1);
SELECT gvx_revoke('id', 'user', 'extra');
SELECT 'revoke unknown', gvx_revoke('no such id');
SELECT 'revoke injection', gvx_revoke(''' OR 1=1 --');
-- gvx_purge_expired, gvx_cleanup, gvx_list, helpers
SELECT gvx_purge_expired('now');
SELECT gvx_purge_expired(1, 2);
SELECT gvx_cleanup(1, 'yes');
SELECT gvx_cleanup(1, 0, -1);
SELECT gvx_cleanup(1, 0, 'slow');
SELECT gvx_cleanup(1, 0, 0, 0);
SELECT 'list null', quote(gvx_list(NULL));
SELECT gvx_list(5);
SELECT gvx_list('a', 'b');
SELECT 'format', gvx_check_format('gvx_abc'), quote(gvx_check_format(NULL)), gvx_check_format(1);
SELECT gvx_key_hash(printf('%.600c', 'k'));
-- Functions that touch tokens cannot be smuggled into a schema.
CREATE VIEW sneaky AS SELECT gvx_verify('x') AS v;
SELECT * FROM sneaky;
CREATE TABLE t(a);
CREATE TRIGGER sneaky_trigger AFTER INSERT ON t BEGIN SELECT gvx_revoke(new.a); END;
INSERT INTO t VALUES ('x');
-- Nothing above changed the stored tokens.
SELECT 'tokens', count(*), group_concat(user_id, ',') FROM apikey;
