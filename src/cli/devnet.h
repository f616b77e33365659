/* tcn devnet: a local network on loopback with the simulated TEE — a
 * `tcn ledger` and N tcnd processes — started, extended, demonstrated and
 * stopped from one directory that holds everything it needs. */
#ifndef TCN_CLI_DEVNET_H
#define TCN_CLI_DEVNET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"

/* What a devnet directory holds (README "A local network by hand"):
 *   devnet.json   the processes (ledger, nodes: name, addresses, pid, binary)
 *   pins.json     what clients pin: measurement, group id, sim platform public key
 *   client.key    the first operator's key (hex seed, mode 0600)
 *   platform.key  the sim platform key (plays the TEE vendor; insecure by design)
 *   *.log         each process's log */
#define DEVNET_DIR_DEFAULT "tcn-devnet"
#define DEVNET_NODES_DEFAULT 3u
#define DEVNET_NODES_MAX 5u /* tcnd --bootstrap-expect goes to 5: DESIGN §2, 2-5 coordinators */
#define DEVNET_READY_TIMEOUT_MS 30000u
#define DEVNET_JOIN_TIMEOUT_MS 30000u
#define DEVNET_STOP_GRACE_MS 3000u
#define DEVNET_SLOT_MS 100u
/* What the coordinator key is given on the development ledger (1,000 SOL). */
#define DEVNET_COORDINATOR_LAMPORTS 1000000000000ull

/* devnet_proc.c */
void devnet_sleep_ms(unsigned ms);
int devnet_free_port(uint16_t *port, tcn_error *err) TCN_MUST_CHECK;
bool devnet_port_open(uint16_t port);
int devnet_spawn(char *const argv[], const char *log_path, pid_t *pid, tcn_error *err) TCN_MUST_CHECK;
bool devnet_pid_is_ours(pid_t pid, const char *needle);
bool devnet_stop_pid(pid_t pid, const char *needle, unsigned grace_ms, bool hard);

#endif
