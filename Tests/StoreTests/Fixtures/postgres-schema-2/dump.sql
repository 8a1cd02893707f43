--
-- PostgreSQL database dump
--

\restrict hQhOYwVNSETjzgn9WU1AN3ZGrofS7ELsEYmDdvKXJTECv2cbxFhllQnWWviNZPK

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: whago_fixture_v2; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA whago_fixture_v2;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: api_keys; Type: TABLE; Schema: whago_fixture_v2; Owner: -
--

CREATE TABLE whago_fixture_v2.api_keys (
    prefix text NOT NULL,
    tenant text NOT NULL,
    doc jsonb NOT NULL
);


--
-- Name: chips; Type: TABLE; Schema: whago_fixture_v2; Owner: -
--

CREATE TABLE whago_fixture_v2.chips (
    id text NOT NULL,
    tenant text NOT NULL,
    name text NOT NULL,
    worker text,
    doc jsonb NOT NULL,
    version integer DEFAULT 1 NOT NULL,
    CONSTRAINT chips_name_check CHECK ((name <> ''::text))
);


--
-- Name: dedupe; Type: TABLE; Schema: whago_fixture_v2; Owner: -
--

CREATE TABLE whago_fixture_v2.dedupe (
    request_id text NOT NULL,
    seen_at timestamp with time zone NOT NULL
);


--
-- Name: leases; Type: TABLE; Schema: whago_fixture_v2; Owner: -
--

CREATE TABLE whago_fixture_v2.leases (
    name text NOT NULL,
    holder text NOT NULL,
    token bigint NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    CONSTRAINT leases_token_check CHECK ((token > 0))
);


--
-- Name: outbox; Type: TABLE; Schema: whago_fixture_v2; Owner: -
--

CREATE TABLE whago_fixture_v2.outbox (
    seq bigint NOT NULL,
    id text NOT NULL,
    tenant text NOT NULL,
    next_attempt_at timestamp with time zone NOT NULL,
    dead boolean DEFAULT false NOT NULL,
    doc jsonb NOT NULL
);


--
-- Name: outbox_seq_seq; Type: SEQUENCE; Schema: whago_fixture_v2; Owner: -
--

CREATE SEQUENCE whago_fixture_v2.outbox_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: outbox_seq_seq; Type: SEQUENCE OWNED BY; Schema: whago_fixture_v2; Owner: -
--

ALTER SEQUENCE whago_fixture_v2.outbox_seq_seq OWNED BY whago_fixture_v2.outbox.seq;


--
-- Name: proxy_leases; Type: TABLE; Schema: whago_fixture_v2; Owner: -
--

CREATE TABLE whago_fixture_v2.proxy_leases (
    chip text NOT NULL,
    provider text NOT NULL,
    sticky_port integer,
    doc jsonb NOT NULL,
    version integer DEFAULT 1 NOT NULL,
    CONSTRAINT proxy_leases_sticky_port_check CHECK (((sticky_port >= 1) AND (sticky_port <= 65535)))
);


--
-- Name: schema_migrations; Type: TABLE; Schema: whago_fixture_v2; Owner: -
--

CREATE TABLE whago_fixture_v2.schema_migrations (
    version integer NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: tenants; Type: TABLE; Schema: whago_fixture_v2; Owner: -
--

CREATE TABLE whago_fixture_v2.tenants (
    id text NOT NULL,
    doc jsonb NOT NULL,
    version integer DEFAULT 1 NOT NULL
);


--
-- Name: workers; Type: TABLE; Schema: whago_fixture_v2; Owner: -
--

CREATE TABLE whago_fixture_v2.workers (
    id text NOT NULL,
    tenant text NOT NULL,
    host text NOT NULL,
    port integer NOT NULL,
    doc jsonb NOT NULL,
    version integer DEFAULT 1 NOT NULL,
    CONSTRAINT workers_port_check CHECK (((port >= 1) AND (port <= 65535)))
);


--
-- Name: outbox seq; Type: DEFAULT; Schema: whago_fixture_v2; Owner: -
--

ALTER TABLE ONLY whago_fixture_v2.outbox ALTER COLUMN seq SET DEFAULT nextval('whago_fixture_v2.outbox_seq_seq'::regclass);


--
-- Data for Name: api_keys; Type: TABLE DATA; Schema: whago_fixture_v2; Owner: -
--

INSERT INTO whago_fixture_v2.api_keys VALUES ('wk_acme1', 'ten_acme', '{"hash": "sha256-of-acme-key", "prefix": "wk_acme1", "tenant": "ten_acme", "createdAt": 817692800}');
INSERT INTO whago_fixture_v2.api_keys VALUES ('wk_beta1', 'ten_beta', '{"hash": "sha256-of-old-beta-key", "prefix": "wk_beta1", "tenant": "ten_beta", "createdAt": 817692800, "revokedAt": 817692860}');


--
-- Data for Name: chips; Type: TABLE DATA; Schema: whago_fixture_v2; Owner: -
--

INSERT INTO whago_fixture_v2.chips VALUES ('chip_one', 'ten_acme', 'sales', 'wrk_acme1', '{"id": "chip_one", "name": "sales", "phone": "5511999990001", "status": "WORKING", "tenant": "ten_acme", "worker": "wrk_acme1", "version": 1, "metadata": {"whago.country": "br"}, "createdAt": 817692800, "statusChangedAt": 817692830}', 1);
INSERT INTO whago_fixture_v2.chips VALUES ('chip_two', 'ten_acme', 'support', 'wrk_acme1', '{"id": "chip_two", "name": "support", "status": "SCAN_QR_CODE", "tenant": "ten_acme", "worker": "wrk_acme1", "version": 1, "metadata": {}, "createdAt": 817692800, "statusChangedAt": 817692800}', 1);
INSERT INTO whago_fixture_v2.chips VALUES ('chip_three', 'ten_beta', 'beta-1', NULL, '{"id": "chip_three", "name": "beta-1", "status": "PROVISIONING", "tenant": "ten_beta", "version": 1, "metadata": {}, "createdAt": 817692800, "statusChangedAt": 817692800}', 1);


--
-- Data for Name: dedupe; Type: TABLE DATA; Schema: whago_fixture_v2; Owner: -
--

INSERT INTO whago_fixture_v2.dedupe VALUES ('req_1', '2026-12-07 17:07:14.005443+00');


--
-- Data for Name: leases; Type: TABLE DATA; Schema: whago_fixture_v2; Owner: -
--

INSERT INTO whago_fixture_v2.leases VALUES ('leader', 'old-whago', 1, '2026-12-07 17:07:44.003628+00');


--
-- Data for Name: outbox; Type: TABLE DATA; Schema: whago_fixture_v2; Owner: -
--

INSERT INTO whago_fixture_v2.outbox VALUES (1, 'evt_1', 'ten_acme', '2026-11-30 00:53:20+00', false, '{"event": {"id": "evt_1", "chip": "chip_one", "kind": "chip.status", "status": "WORKING", "payload": {"status": "WORKING"}, "occurredAt": 817692830}, "tenant": "ten_acme", "attempts": 0, "nextAttemptAt": 817692800}');
INSERT INTO whago_fixture_v2.outbox VALUES (3, 'evt_3', 'ten_beta', '2026-11-30 00:53:20+00', false, '{"event": {"id": "evt_3", "chip": "chip_three", "kind": "chip.status", "status": "PROVISIONING", "payload": {"status": "PROVISIONING"}, "occurredAt": 817692850}, "tenant": "ten_beta", "attempts": 0, "nextAttemptAt": 817692800}');
INSERT INTO whago_fixture_v2.outbox VALUES (2, 'evt_2', 'ten_acme', '2026-11-30 00:53:20+00', true, '{"event": {"id": "evt_2", "chip": "chip_two", "kind": "chip.status", "status": "SCAN_QR_CODE", "payload": {"status": "SCAN_QR_CODE"}, "occurredAt": 817692840}, "tenant": "ten_acme", "attempts": 0, "lastError": "HTTP 500", "nextAttemptAt": 817692800}');


--
-- Data for Name: proxy_leases; Type: TABLE DATA; Schema: whago_fixture_v2; Owner: -
--

INSERT INTO whago_fixture_v2.proxy_leases VALUES ('chip_one', 'dataimpulse', 10001, '{"chip": "chip_one", "endpoint": {"host": "gw.dataimpulse.com", "port": 10001, "scheme": "socks5", "password": "lease-password", "username": "login__cr.br"}, "leasedAt": 817692800, "provider": "dataimpulse", "stickyPort": 10001}', 1);


--
-- Data for Name: schema_migrations; Type: TABLE DATA; Schema: whago_fixture_v2; Owner: -
--

INSERT INTO whago_fixture_v2.schema_migrations VALUES (1, '2026-12-07 17:07:13.918678+00');
INSERT INTO whago_fixture_v2.schema_migrations VALUES (2, '2026-12-07 17:07:13.918678+00');


--
-- Data for Name: tenants; Type: TABLE DATA; Schema: whago_fixture_v2; Owner: -
--

INSERT INTO whago_fixture_v2.tenants VALUES ('ten_acme', '{"id": "ten_acme", "name": "acme", "version": 1, "chipQuota": 5, "createdAt": 817692800, "webhookURL": "https://acme.example/hooks"}', 1);
INSERT INTO whago_fixture_v2.tenants VALUES ('ten_beta', '{"id": "ten_beta", "name": "beta", "version": 1, "createdAt": 817692800}', 1);


--
-- Data for Name: workers; Type: TABLE DATA; Schema: whago_fixture_v2; Owner: -
--

INSERT INTO whago_fixture_v2.workers VALUES ('wrk_acme1', 'ten_acme', '127.0.0.1', 3100, '{"id": "wrk_acme1", "host": "127.0.0.1", "name": "whago-wrk_acme1", "port": 3100, "apiKey": "plain-worker-api-key", "tenant": "ten_acme", "version": 1, "createdAt": 817692800, "runtimeID": "whago-wrk_acme1", "webhookSecret": "plain-worker-hmac-key"}', 1);


--
-- Name: outbox_seq_seq; Type: SEQUENCE SET; Schema: whago_fixture_v2; Owner: -
--

SELECT pg_catalog.setval('whago_fixture_v2.outbox_seq_seq', 3, true);


--
-- Name: api_keys api_keys_pkey; Type: CONSTRAINT; Schema: whago_fixture_v2; Owner: -
--

ALTER TABLE ONLY whago_fixture_v2.api_keys
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (prefix);


--
-- Name: chips chips_pkey; Type: CONSTRAINT; Schema: whago_fixture_v2; Owner: -
--

ALTER TABLE ONLY whago_fixture_v2.chips
    ADD CONSTRAINT chips_pkey PRIMARY KEY (id);


--
-- Name: chips chips_tenant_name_key; Type: CONSTRAINT; Schema: whago_fixture_v2; Owner: -
--

ALTER TABLE ONLY whago_fixture_v2.chips
    ADD CONSTRAINT chips_tenant_name_key UNIQUE (tenant, name);


--
-- Name: dedupe dedupe_pkey; Type: CONSTRAINT; Schema: whago_fixture_v2; Owner: -
--

ALTER TABLE ONLY whago_fixture_v2.dedupe
    ADD CONSTRAINT dedupe_pkey PRIMARY KEY (request_id);


--
-- Name: leases leases_pkey; Type: CONSTRAINT; Schema: whago_fixture_v2; Owner: -
--

ALTER TABLE ONLY whago_fixture_v2.leases
    ADD CONSTRAINT leases_pkey PRIMARY KEY (name);


--
-- Name: outbox outbox_id_key; Type: CONSTRAINT; Schema: whago_fixture_v2; Owner: -
--

ALTER TABLE ONLY whago_fixture_v2.outbox
    ADD CONSTRAINT outbox_id_key UNIQUE (id);


--
-- Name: outbox outbox_pkey; Type: CONSTRAINT; Schema: whago_fixture_v2; Owner: -
--

ALTER TABLE ONLY whago_fixture_v2.outbox
    ADD CONSTRAINT outbox_pkey PRIMARY KEY (seq);


--
-- Name: proxy_leases proxy_leases_pkey; Type: CONSTRAINT; Schema: whago_fixture_v2; Owner: -
--

ALTER TABLE ONLY whago_fixture_v2.proxy_leases
    ADD CONSTRAINT proxy_leases_pkey PRIMARY KEY (chip);


--
-- Name: proxy_leases proxy_leases_provider_sticky_port_key; Type: CONSTRAINT; Schema: whago_fixture_v2; Owner: -
--

ALTER TABLE ONLY whago_fixture_v2.proxy_leases
    ADD CONSTRAINT proxy_leases_provider_sticky_port_key UNIQUE (provider, sticky_port);


--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: whago_fixture_v2; Owner: -
--

ALTER TABLE ONLY whago_fixture_v2.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);


--
-- Name: tenants tenants_pkey; Type: CONSTRAINT; Schema: whago_fixture_v2; Owner: -
--

ALTER TABLE ONLY whago_fixture_v2.tenants
    ADD CONSTRAINT tenants_pkey PRIMARY KEY (id);


--
-- Name: workers workers_host_port_key; Type: CONSTRAINT; Schema: whago_fixture_v2; Owner: -
--

ALTER TABLE ONLY whago_fixture_v2.workers
    ADD CONSTRAINT workers_host_port_key UNIQUE (host, port);


--
-- Name: workers workers_pkey; Type: CONSTRAINT; Schema: whago_fixture_v2; Owner: -
--

ALTER TABLE ONLY whago_fixture_v2.workers
    ADD CONSTRAINT workers_pkey PRIMARY KEY (id);


--
-- Name: outbox_dead_next_attempt_at_idx; Type: INDEX; Schema: whago_fixture_v2; Owner: -
--

CREATE INDEX outbox_dead_next_attempt_at_idx ON whago_fixture_v2.outbox USING btree (dead, next_attempt_at);


--
-- Name: api_keys api_keys_tenant_fkey; Type: FK CONSTRAINT; Schema: whago_fixture_v2; Owner: -
--

ALTER TABLE ONLY whago_fixture_v2.api_keys
    ADD CONSTRAINT api_keys_tenant_fkey FOREIGN KEY (tenant) REFERENCES whago_fixture_v2.tenants(id) ON DELETE CASCADE;


--
-- Name: chips chips_tenant_fkey; Type: FK CONSTRAINT; Schema: whago_fixture_v2; Owner: -
--

ALTER TABLE ONLY whago_fixture_v2.chips
    ADD CONSTRAINT chips_tenant_fkey FOREIGN KEY (tenant) REFERENCES whago_fixture_v2.tenants(id);


--
-- Name: chips chips_worker_fkey; Type: FK CONSTRAINT; Schema: whago_fixture_v2; Owner: -
--

ALTER TABLE ONLY whago_fixture_v2.chips
    ADD CONSTRAINT chips_worker_fkey FOREIGN KEY (worker) REFERENCES whago_fixture_v2.workers(id) ON DELETE SET NULL;


--
-- Name: proxy_leases proxy_leases_chip_fkey; Type: FK CONSTRAINT; Schema: whago_fixture_v2; Owner: -
--

ALTER TABLE ONLY whago_fixture_v2.proxy_leases
    ADD CONSTRAINT proxy_leases_chip_fkey FOREIGN KEY (chip) REFERENCES whago_fixture_v2.chips(id) ON DELETE CASCADE;


--
-- Name: workers workers_tenant_fkey; Type: FK CONSTRAINT; Schema: whago_fixture_v2; Owner: -
--

ALTER TABLE ONLY whago_fixture_v2.workers
    ADD CONSTRAINT workers_tenant_fkey FOREIGN KEY (tenant) REFERENCES whago_fixture_v2.tenants(id);


--
-- PostgreSQL database dump complete
--

\unrestrict hQhOYwVNSETjzgn9WU1AN3ZGrofS7ELsEYmDdvKXJTECv2cbxFhllQnWWviNZPK

