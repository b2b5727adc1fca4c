-- CRLF line endings on purpose
create function people_count() returns bigint
language sql
begin atomic
  select count(*) from people;
end;
