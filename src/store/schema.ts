import type Database from 'better-sqlite3';
import { toInt } from '../addr/ipv4.js';

/** Schema migrations, applied in order; PRAGMA user_version records how many ran. */
export const MIGRATIONS: readonly (string | ((db: Database.Database) => void))[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE networks (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    subnet TEXT NOT NULL,
    gateway TEXT NOT NULL,
    bridge TEXT NOT NULL UNIQUE,
    internal INTEGER NOT NULL DEFAULT 0,
    mtu INTEGER NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE TABLE containers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    network_id TEXT NOT NULL REFERENCES networks(id),
    ip TEXT,
    host_veth TEXT,
    netns TEXT,
    hostname TEXT NOT NULL,
    command TEXT NOT NULL,
    env TEXT NOT NULL,
    port_specs TEXT NOT NULL,
    detached INTEGER NOT NULL,
    auto_remove INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('created', 'running', 'exited')),
    pid INTEGER,
    pid_start TEXT,
    exit_code INTEGER,
    log_path TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT
  );
  CREATE UNIQUE INDEX containers_ip ON containers(network_id, ip) WHERE ip IS NOT NULL;
  CREATE TABLE ports (
    container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
    protocol TEXT NOT NULL CHECK (protocol IN ('tcp', 'udp')),
    host_ip TEXT NOT NULL,
    host_port INTEGER NOT NULL,
    container_port INTEGER NOT NULL,
    PRIMARY KEY (protocol, host_ip, host_port)
  );
  `,
  // Addresses as integers, so the lowest free one is found by an indexed query, not by loading all.
  (db) => {
    db.exec(`
      ALTER TABLE containers ADD COLUMN ip_num INTEGER;
      CREATE UNIQUE INDEX containers_ip_num ON containers(network_id, ip_num) WHERE ip_num IS NOT NULL;
      CREATE INDEX containers_state_pid ON containers(state, pid);
    `);
    const set = db.prepare('UPDATE containers SET ip_num = ? WHERE id = ?');
    for (const row of db.prepare('SELECT id, ip FROM containers WHERE ip IS NOT NULL').all() as { id: string; ip: string }[]) {
      set.run(toInt(row.ip), row.id);
    }
  },
  // CNI attachments: a runtime's namespace and interface name, its container ID; address ranges.
  `
  ALTER TABLE containers ADD COLUMN ifname TEXT NOT NULL DEFAULT 'eth0';
  ALTER TABLE containers ADD COLUMN owns_netns INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE containers ADD COLUMN cni_container_id TEXT;
  CREATE UNIQUE INDEX containers_cni ON containers(network_id, cni_container_id, ifname) WHERE cni_container_id IS NOT NULL;
  ALTER TABLE networks ADD COLUMN range_start TEXT;
  ALTER TABLE networks ADD COLUMN range_end TEXT;
  `,
  // Per-network masquerade (off: routed mode) and whether containers get a default route.
  `
  ALTER TABLE networks ADD COLUMN ip_masq INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE networks ADD COLUMN default_route INTEGER NOT NULL DEFAULT 1;
  `,
  // SCTP publications: SQLite cannot change a CHECK constraint, so the table is rebuilt.
  `
  CREATE TABLE ports_v5 (
    container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
    protocol TEXT NOT NULL CHECK (protocol IN ('tcp', 'udp', 'sctp')),
    host_ip TEXT NOT NULL,
    host_port INTEGER NOT NULL,
    container_port INTEGER NOT NULL,
    PRIMARY KEY (protocol, host_ip, host_port)
  );
  INSERT INTO ports_v5 SELECT container_id, protocol, host_ip, host_port, container_port FROM ports;
  DROP TABLE ports;
  ALTER TABLE ports_v5 RENAME TO ports;
  `,
  // Restart policy of detached containers (on-failure:N; 0 = never).
  `ALTER TABLE containers ADD COLUMN restart_max INTEGER NOT NULL DEFAULT 0;`,
  // What a container sees and may use beyond its network (rootfs, mounts, user, cgroup limits), and OOM kills.
  `
  ALTER TABLE containers ADD COLUMN sandbox TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE containers ADD COLUMN oom_killed INTEGER NOT NULL DEFAULT 0;
  `,
  // --network-alias: more names the embedded DNS answers for a container on its network.
  // and whether a network has it (runtimes attaching through CNI bring their own DNS).
  `
  ALTER TABLE containers ADD COLUMN aliases TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE networks ADD COLUMN dns INTEGER NOT NULL DEFAULT 1;
  `,
  // network connect: a running container's further networks (eth1, ...), each with its own address.
  `
  CREATE TABLE attachments (
    container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
    network_id TEXT NOT NULL REFERENCES networks(id),
    ifname TEXT NOT NULL,
    ip TEXT NOT NULL,
    ip_num INTEGER NOT NULL,
    host_veth TEXT NOT NULL,
    aliases TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (container_id, network_id)
  );
  CREATE UNIQUE INDEX attachments_ip ON attachments(network_id, ip_num);
  `,
  // Dual stack: a network's IPv6 subnet and gateway, a container's IPv6 address (by its offset in the subnet).
  `
  ALTER TABLE networks ADD COLUMN subnet6 TEXT;
  ALTER TABLE networks ADD COLUMN gateway6 TEXT;
  ALTER TABLE containers ADD COLUMN ip6 TEXT;
  ALTER TABLE containers ADD COLUMN ip6_offset INTEGER;
  CREATE UNIQUE INDEX containers_ip6 ON containers(network_id, ip6_offset) WHERE ip6_offset IS NOT NULL;
  `,
  // The container interface's MAC (CNI runtimes may choose it): the bridge's anti-spoofing sets hold it.
  `ALTER TABLE containers ADD COLUMN mac TEXT;`,
  // The crash protocol: a network is recorded (creating) before its bridge exists and marked (removing)
  // before it goes, so the next command finishes or undoes what a killed one left.
  `ALTER TABLE networks ADD COLUMN state TEXT NOT NULL DEFAULT 'ready' CHECK (state IN ('creating', 'ready', 'removing'));`,
  // ... and a container is marked before `rm` takes it apart, so a killed removal is finished, not left Exited.
  `ALTER TABLE containers ADD COLUMN removing INTEGER NOT NULL DEFAULT 0;`,
  // network connect on a dual-stack network gives an IPv6 address too (by its offset in the subnet, as a first network's).
  `
  ALTER TABLE attachments ADD COLUMN ip6 TEXT;
  ALTER TABLE attachments ADD COLUMN ip6_offset INTEGER;
  CREATE UNIQUE INDEX attachments_ip6 ON attachments(network_id, ip6_offset) WHERE ip6_offset IS NOT NULL;
  `,
  // One attachment model: a container's first network is an attachment row too (is_primary), so every
  // reader of addresses, veths and names reads one table; the containers columns it held go.
  `
  ALTER TABLE attachments ADD COLUMN mac TEXT;
  ALTER TABLE attachments ADD COLUMN is_primary INTEGER NOT NULL DEFAULT 0;
  INSERT INTO attachments (container_id, network_id, ifname, ip, ip_num, host_veth, aliases, ip6, ip6_offset, mac, is_primary)
    SELECT id, network_id, ifname, ip, ip_num, COALESCE(host_veth, ''), aliases, ip6, ip6_offset, mac, 1 FROM containers WHERE ip IS NOT NULL;
  CREATE UNIQUE INDEX attachments_primary ON attachments(container_id) WHERE is_primary = 1;
  DROP INDEX containers_ip;
  DROP INDEX containers_ip_num;
  DROP INDEX containers_ip6;
  ALTER TABLE containers DROP COLUMN ip;
  ALTER TABLE containers DROP COLUMN ip_num;
  ALTER TABLE containers DROP COLUMN host_veth;
  ALTER TABLE containers DROP COLUMN ip6;
  ALTER TABLE containers DROP COLUMN ip6_offset;
  ALTER TABLE containers DROP COLUMN mac;
  `,
  // Network modes (run --network none|host|container:NAME): a container may have no network of its own,
  // and its network options (--add-host, --dns, --sysctl, ...) are kept with it;
  // so network_id may be NULL; SQLite cannot drop NOT NULL, so the table is rebuilt (foreign keys are
  // off while migrations run, so the rows that reference containers stay).
  `
  CREATE TABLE containers_v2 (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    network_id TEXT REFERENCES networks(id),
    netns TEXT,
    hostname TEXT NOT NULL,
    command TEXT NOT NULL,
    env TEXT NOT NULL,
    port_specs TEXT NOT NULL,
    detached INTEGER NOT NULL,
    auto_remove INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('created', 'running', 'exited')),
    pid INTEGER,
    pid_start TEXT,
    exit_code INTEGER,
    log_path TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    ifname TEXT NOT NULL DEFAULT 'eth0',
    owns_netns INTEGER NOT NULL DEFAULT 1,
    cni_container_id TEXT,
    restart_max INTEGER NOT NULL DEFAULT 0,
    sandbox TEXT NOT NULL DEFAULT '{}',
    oom_killed INTEGER NOT NULL DEFAULT 0,
    aliases TEXT NOT NULL DEFAULT '[]',
    removing INTEGER NOT NULL DEFAULT 0,
    network_mode TEXT NOT NULL DEFAULT 'bridge' CHECK (network_mode IN ('bridge', 'none', 'host', 'container')),
    netns_of TEXT,
    net_options TEXT NOT NULL DEFAULT '{}',
    CHECK ((network_mode = 'bridge') = (network_id IS NOT NULL))
  );
  INSERT INTO containers_v2 (id, name, network_id, netns, hostname, command, env, port_specs, detached, auto_remove, state, pid, pid_start,
      exit_code, log_path, created_at, started_at, finished_at, ifname, owns_netns, cni_container_id, restart_max, sandbox, oom_killed, aliases, removing)
    SELECT id, name, network_id, netns, hostname, command, env, port_specs, detached, auto_remove, state, pid, pid_start,
      exit_code, log_path, created_at, started_at, finished_at, ifname, owns_netns, cni_container_id, restart_max, sandbox, oom_killed, aliases, removing FROM containers;
  DROP TABLE containers;
  ALTER TABLE containers_v2 RENAME TO containers;
  CREATE INDEX containers_state_pid ON containers(state, pid);
  CREATE UNIQUE INDEX containers_cni ON containers(network_id, cni_container_id, ifname) WHERE cni_container_id IS NOT NULL;
  CREATE INDEX containers_netns_of ON containers(netns_of) WHERE netns_of IS NOT NULL;
  `,
  // Docker's network options: labels, reserved (auxiliary) addresses, no traffic between containers
  // (enable_icc=false), a default host address for published ports; the driver (bridge or macvlan) and its parent.
  `
  ALTER TABLE networks ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE networks ADD COLUMN ip_range TEXT;
  ALTER TABLE networks ADD COLUMN aux_addresses TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE networks ADD COLUMN icc INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE networks ADD COLUMN host_binding_ipv4 TEXT;
  ALTER TABLE networks ADD COLUMN driver TEXT NOT NULL DEFAULT 'bridge' CHECK (driver IN ('bridge', 'macvlan'));
  ALTER TABLE networks ADD COLUMN parent TEXT;
  `,
  // macvlan networks have no bridge (containers sit on the parent's segment): bridge becomes NULL for
  // them, which SQLite's NOT NULL forbids, so the table is rebuilt (foreign keys are off while migrating).
  `
  CREATE TABLE networks_v2 (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    subnet TEXT NOT NULL,
    gateway TEXT NOT NULL,
    bridge TEXT UNIQUE,
    internal INTEGER NOT NULL DEFAULT 0,
    mtu INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    range_start TEXT,
    range_end TEXT,
    ip_masq INTEGER NOT NULL DEFAULT 1,
    default_route INTEGER NOT NULL DEFAULT 1,
    dns INTEGER NOT NULL DEFAULT 1,
    subnet6 TEXT,
    gateway6 TEXT,
    state TEXT NOT NULL DEFAULT 'ready' CHECK (state IN ('creating', 'ready', 'removing')),
    labels TEXT NOT NULL DEFAULT '{}',
    ip_range TEXT,
    aux_addresses TEXT NOT NULL DEFAULT '{}',
    icc INTEGER NOT NULL DEFAULT 1,
    host_binding_ipv4 TEXT,
    driver TEXT NOT NULL DEFAULT 'bridge' CHECK (driver IN ('bridge', 'macvlan')),
    parent TEXT,
    CHECK ((driver = 'bridge' AND bridge IS NOT NULL AND parent IS NULL) OR (driver = 'macvlan' AND bridge IS NULL AND parent IS NOT NULL))
  );
  INSERT INTO networks_v2 SELECT id, name, subnet, gateway, bridge, internal, mtu, created_at, range_start, range_end, ip_masq, default_route, dns,
    subnet6, gateway6, state, labels, ip_range, aux_addresses, icc, host_binding_ipv4, driver, parent FROM networks;
  DROP TABLE networks;
  ALTER TABLE networks_v2 RENAME TO networks;
  `,
  // Docker 28 blocks other hosts from a masquerading network's containers (only published ports reach
  // them); the CNI bridge plugin does not, and Kubernetes' flat pod network relies on it. A key of its
  // own now: on for ctnet's CLI networks, off for the networks CNI configurations made (dns off, not the default bridge).
  `
  ALTER TABLE networks ADD COLUMN block_direct INTEGER NOT NULL DEFAULT 1;
  UPDATE networks SET block_direct = 0 WHERE dns = 0 AND name != 'bridge' AND driver = 'bridge';
  `,
  // A macvlan attachment has no host end: host_veth becomes NULL for it (it held '' so far), which
  // NOT NULL forbids, so the table is rebuilt.
  `
  CREATE TABLE attachments_v2 (
    container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
    network_id TEXT NOT NULL REFERENCES networks(id),
    ifname TEXT NOT NULL,
    ip TEXT NOT NULL,
    ip_num INTEGER NOT NULL,
    host_veth TEXT,
    aliases TEXT NOT NULL DEFAULT '[]',
    ip6 TEXT,
    ip6_offset INTEGER,
    mac TEXT,
    is_primary INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (container_id, network_id)
  );
  INSERT INTO attachments_v2 SELECT container_id, network_id, ifname, ip, ip_num, NULLIF(host_veth, ''), aliases, ip6, ip6_offset, mac, is_primary FROM attachments;
  DROP TABLE attachments;
  ALTER TABLE attachments_v2 RENAME TO attachments;
  CREATE UNIQUE INDEX attachments_ip ON attachments(network_id, ip_num);
  CREATE UNIQUE INDEX attachments_ip6 ON attachments(network_id, ip6_offset) WHERE ip6_offset IS NOT NULL;
  CREATE UNIQUE INDEX attachments_primary ON attachments(container_id) WHERE is_primary = 1;
  `,
  // Overlay networks (a VXLAN across hosts, coordinated through etcd): on this host such a network is
  // a bridge over this host's block of the cluster subnet plus a VXLAN device (overlay: JSON); the
  // remote hosts' blocks as programmed into the kernel, and the remote containers' names for the DNS.
  `
  ALTER TABLE networks ADD COLUMN overlay TEXT;
  CREATE TABLE overlay_peers (
    network_id TEXT NOT NULL REFERENCES networks(id) ON DELETE CASCADE,
    block TEXT NOT NULL,
    host TEXT NOT NULL,
    vtep_mac TEXT NOT NULL,
    underlay TEXT NOT NULL,
    PRIMARY KEY (network_id, block)
  );
  CREATE TABLE remote_endpoints (
    network_id TEXT NOT NULL REFERENCES networks(id) ON DELETE CASCADE,
    host TEXT NOT NULL,
    name TEXT NOT NULL,
    aliases TEXT NOT NULL DEFAULT '[]',
    ip TEXT NOT NULL,
    PRIMARY KEY (network_id, host, name)
  );
  `,
  // What every run and rm reads, through indexes: a host port's publications (the primary key starts
  // with the host address), a container's (also what deleting a container cascades to), the
  // containers a killed rm left, a network's containers. Each was a read of every row: with 6,000
  // containers with a port each, an attach took 14.8 ms, 12.0 with these (as with 1,000).
  `
  CREATE INDEX ports_host_port ON ports(protocol, host_port);
  CREATE INDEX ports_container ON ports(container_id);
  CREATE INDEX containers_removing ON containers(removing) WHERE removing = 1;
  CREATE INDEX containers_network ON containers(network_id);
  `,
  // Segments: a network's further bridges, joined to its own by a trunk each (engine/segments.ts);
  // 0 is the network's bridge. A network's ports per bridge are counted through the index.
  `
  ALTER TABLE attachments ADD COLUMN segment INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX attachments_segment ON attachments(network_id, segment);
  `,
  // Docker's container labels (run --label), found with ps --filter label=.
  `ALTER TABLE containers ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';`,
  // What the embedded DNS must read again, in commit order: a container whose names, addresses or
  // state changed, or NULL for everything (networks, other hosts' names). ctnet-dns read every
  // container at each commit: at 10,000 containers ~0.6 s of CPU per run and rm. The newest 10,000
  // entries are kept; a reader further behind than that reads everything. (No AUTOINCREMENT: the
  // newest entry is never pruned, so a new one is always the highest plus one, and a commit writes
  // one page fewer.) A later migration that rebuilds containers, attachments, networks or
  // remote_endpoints drops their triggers with them and must create them again
  // (test/unit/dns-follow.test.mjs fails without them).
  `
  CREATE TABLE dns_log (seq INTEGER PRIMARY KEY, container_id TEXT);
  CREATE TRIGGER dns_log_prune AFTER INSERT ON dns_log WHEN NEW.seq % 1000 = 0
  BEGIN DELETE FROM dns_log WHERE seq <= NEW.seq - 10000; END;
  CREATE TRIGGER dns_container_in AFTER INSERT ON containers BEGIN INSERT INTO dns_log (container_id) VALUES (NEW.id); END;
  CREATE TRIGGER dns_container_out AFTER DELETE ON containers BEGIN INSERT INTO dns_log (container_id) VALUES (OLD.id); END;
  CREATE TRIGGER dns_container_change AFTER UPDATE OF name, state, net_options ON containers
  WHEN OLD.name IS NOT NEW.name OR OLD.state IS NOT NEW.state OR OLD.net_options IS NOT NEW.net_options
  BEGIN INSERT INTO dns_log (container_id) VALUES (NEW.id); END;
  CREATE TRIGGER dns_attachment_in AFTER INSERT ON attachments BEGIN INSERT INTO dns_log (container_id) VALUES (NEW.container_id); END;
  CREATE TRIGGER dns_attachment_out AFTER DELETE ON attachments BEGIN INSERT INTO dns_log (container_id) VALUES (OLD.container_id); END;
  CREATE TRIGGER dns_attachment_change AFTER UPDATE ON attachments
  BEGIN INSERT INTO dns_log (container_id) VALUES (OLD.container_id); INSERT INTO dns_log (container_id) VALUES (NEW.container_id); END;
  CREATE TRIGGER dns_network_in AFTER INSERT ON networks BEGIN INSERT INTO dns_log (container_id) VALUES (NULL); END;
  CREATE TRIGGER dns_network_out AFTER DELETE ON networks BEGIN INSERT INTO dns_log (container_id) VALUES (NULL); END;
  CREATE TRIGGER dns_network_change AFTER UPDATE OF name, gateway, internal, dns, state ON networks
  WHEN OLD.name IS NOT NEW.name OR OLD.gateway IS NOT NEW.gateway OR OLD.internal IS NOT NEW.internal OR OLD.dns IS NOT NEW.dns OR OLD.state IS NOT NEW.state
  BEGIN INSERT INTO dns_log (container_id) VALUES (NULL); END;
  CREATE TRIGGER dns_remote_in AFTER INSERT ON remote_endpoints BEGIN INSERT INTO dns_log (container_id) VALUES (NULL); END;
  CREATE TRIGGER dns_remote_out AFTER DELETE ON remote_endpoints BEGIN INSERT INTO dns_log (container_id) VALUES (NULL); END;
  CREATE TRIGGER dns_remote_change AFTER UPDATE ON remote_endpoints BEGIN INSERT INTO dns_log (container_id) VALUES (NULL); END;
  `,
];
