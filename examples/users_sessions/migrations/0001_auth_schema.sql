-- The authentication schema: users, their sessions and OAuth accounts, e-mail verification
-- tokens, and a waitlist. Matches the structs in ../schema.hpp (the demo checks it).

create table "user" (
  id text primary key,
  email text not null unique,
  name text,
  email_verified boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table session (
  id text primary key,
  user_id text not null references "user" (id) on delete cascade,
  token text not null unique,
  expires_at timestamptz not null,
  ip_address text,
  user_agent text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index on session (user_id, expires_at);

create table account (
  id text primary key,
  user_id text not null references "user" (id) on delete cascade,
  provider text not null,
  provider_account_id text not null,
  access_token text,
  access_token_expires_at timestamptz,
  created_at timestamptz not null default now(),
  unique (provider, provider_account_id)
);

create table verification (
  id text primary key,
  identifier text not null,
  value text not null,
  expires_at timestamptz not null,
  created_at timestamptz not null default now()
);
create index on verification (identifier);

create table waitlist (
  id bigint generated always as identity primary key,
  email text not null unique,
  role text not null default 'member',
  created_at timestamptz not null default now()
);
