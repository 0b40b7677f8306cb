-- One database and one role per service: a service can only reach its own data.
-- Development passwords; production credentials come from the platform's secret store.
CREATE ROLE cafeia_catalogue LOGIN PASSWORD 'dev-catalogue';
CREATE ROLE cafeia_facilitators LOGIN PASSWORD 'dev-facilitators';
CREATE ROLE cafeia_events LOGIN PASSWORD 'dev-events';
CREATE ROLE cafeia_matching LOGIN PASSWORD 'dev-matching';
CREATE ROLE cafeia_outreach LOGIN PASSWORD 'dev-outreach';
CREATE DATABASE cafeia_catalogue OWNER cafeia_catalogue;
CREATE DATABASE cafeia_facilitators OWNER cafeia_facilitators;
CREATE DATABASE cafeia_events OWNER cafeia_events;
CREATE DATABASE cafeia_matching OWNER cafeia_matching;
CREATE DATABASE cafeia_outreach OWNER cafeia_outreach;
REVOKE ALL ON DATABASE cafeia_catalogue, cafeia_facilitators, cafeia_events, cafeia_matching, cafeia_outreach FROM PUBLIC;
