-- Embedded into integration_migrate by cmake/pgorm_embed_migrations.cmake; the test checks
-- that the embedded bytes and checksums are the file's. Non-ASCII: café, 東京.
create table people (
  id int primary key,
  name text not null default E'it\'s; still a string',  -- E'' with an escaped quote
  motto text default $$semi; colon$$
);
insert into people (id, name) values (1, 'Zoë; the first');
