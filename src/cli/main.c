/* tcn — the command-line client: a table of subcommands (wireguard-tools style). */
#include <stdio.h>
#include <string.h>

#include "cli/api_cmd.h"
#include "cli/cli.h"
#include "util/secmem.h"

static const struct tcn_cli_cmd commands[] = {
    {"verify-evidence", tcn_cmd_verify_evidence, "verify TEE evidence (sgx, tdx, nitro, sim) and print its claims"},
    {"measure", tcn_cmd_measure, "print the sim measurement (SHA-384) of a file"},
    {"sim-platform", tcn_cmd_sim_platform, "sim TEE platform keys and evidence (keygen, pubkey, quote)"},
    {"ledger", tcn_cmd_ledger, "a local Solana JSON-RPC ledger (the chain model); airdrop, balance"},
    {"status", tcn_cmd_status, "a node's role, term, leader and members (RA-TLS verified)"},
    {"verify", tcn_cmd_verify, "verify a node's attestation against the pinned measurement and group"},
    {"swap", tcn_cmd_swap, "create a swap (and get its pre-signed refund); show a swap"},
    {"payout", tcn_cmd_payout, "schedule a payout from a swap's escrow"},
    {"client", tcn_cmd_client, "operator: set a client key's role"},
    {"keys", tcn_cmd_keys, "delegate a key or share, list keys, set a key's policy"},
    {"keygen", tcn_cmd_keygen, "write a new client key file and print its public key"},
    {"cluster", tcn_cmd_cluster, "members; operator: replace a dead member, transfer leadership"},
    {"devnet", tcn_cmd_devnet, "a local network (ledger + tcnd nodes, sim TEE): up, add, demo, down"},
    {"version", tcn_cmd_version, "print the version"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: tcn <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-16s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n'tcn <command> --help' shows a command's options.\n");
}

int tcn_cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("tcn %s\n", TCN_VERSION);
    return 0;
}

int main(int argc, char **argv)
{
    if (tcn_crypto_init() != TCN_OK) {
        fprintf(stderr, "tcn: cannot initialise libsodium\n");
        return 1;
    }
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "tcn: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
