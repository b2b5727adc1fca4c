-- pgorm: no-transaction
create index concurrently if not exists people_name on people (name);
