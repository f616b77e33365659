/* tcn swap create|show and tcn payout schedule. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/api_cmd.h"
#include "cli/cli.h"

static const char swap_usage[] =
    "usage: tcn swap create --node URL --amount LAMPORTS --lp PUBKEY --refund-to PUBKEY\n"
    "                       [--deadline RFC3339|+SECONDS] [--escrow-key PUBKEY] [--json]\n"
    "       tcn swap show --node URL ID [--json]\n"
    "  create  a swap; waits (up to 15 s) for the network to open it and prints the pre-signed\n"
    "          refund (refund_tx null: not issued yet, poll 'tcn swap show')\n"
    "  show    a swap's state, balance, payouts and current refund\n" API_CMD_COMMON_HELP;

static int swap_create(int argc, char **argv)
{
    api_cmd c = {.name = "swap create", .usage = swap_usage, .n_flags = 5,
                 .flag_names = {"--amount", "--lp", "--refund-to", "--deadline", "--escrow-key"}};
    int rc = api_cmd_parse(&c, argc, argv, 0, 0);
    if (rc >= 0)
        return rc;
    const char *amount_s = api_cmd_flag(&c, "--amount"), *lp = api_cmd_flag(&c, "--lp"),
               *refund_to = api_cmd_flag(&c, "--refund-to"), *deadline = api_cmd_flag(&c, "--deadline"),
               *escrow = api_cmd_flag(&c, "--escrow-key");
    uint64_t amount;
    if (amount_s == NULL || lp == NULL || refund_to == NULL)
        return api_cmd_usage_error(&c, "--amount, --lp and --refund-to are required");
    if (!api_cmd_parse_amount(amount_s, false, &amount))
        return api_cmd_usage_error(&c, "--amount must be decimal lamports, 1..2^63-1");
    json_t *body = json_pack("{s:I,s:s,s:s}", "amount", (json_int_t)amount, "lp", lp, "refund_to", refund_to);
    char when[48];
    if (deadline != NULL) {
        if (!api_cmd_parse_when(deadline, when, sizeof(when))) {
            json_decref(body);
            return api_cmd_usage_error(&c, "--deadline must be RFC 3339 or +SECONDS");
        }
        json_object_set_new(body, "deadline", json_string(when));
    }
    if (escrow != NULL)
        json_object_set_new(body, "escrow_key", json_string(escrow));
    tcn_client *cl;
    if ((rc = api_cmd_client(&c, true, false, &cl)) >= 0) {
        json_decref(body);
        return rc;
    }
    tcn_client_response r;
    rc = api_cmd_call(&c, cl, "POST", "/v1/swaps", body, true, 201, 202, &r);
    tcn_client_free(cl);
    if (rc >= 0)
        return rc;
    const json_t *b = r.body;
    if (c.json) {
        tcn_cli_json_print(json_pack("{s:O,s:O,s:O,s:O,s:O,s:O}", "swap_id", json_object_get(b, "swap_id"), "state",
                                     json_object_get(b, "state"), "escrow", json_object_get(b, "escrow"),
                                     "nonce_account", json_object_get(b, "nonce_account"), "refund_tx",
                                     json_object_get(b, "refund_tx"), "refund_nonce", json_object_get(b, "refund_nonce")));
    } else {
        printf("swap %lld created: escrow %s, nonce account %s\n", json_integer_value(json_object_get(b, "swap_id")),
               json_string_value(json_object_get(b, "escrow")), json_string_value(json_object_get(b, "nonce_account")));
        if (r.status == 201)
            printf("refund (base64, bound to nonce %s):\n%s\n", json_string_value(json_object_get(b, "refund_nonce")),
                   json_string_value(json_object_get(b, "refund_tx")));
        else
            printf("the refund is not issued yet; poll 'tcn swap show %lld' before funding the escrow\n",
                   json_integer_value(json_object_get(b, "swap_id")));
    }
    tcn_client_response_free(&r);
    return TCN_EXIT_OK;
}

static bool valid_id(const char *s)
{
    uint64_t v;
    return api_cmd_parse_amount(s, false, &v);
}

static int swap_show(int argc, char **argv)
{
    api_cmd c = {.name = "swap show", .usage = swap_usage};
    int rc = api_cmd_parse(&c, argc, argv, 1, 1);
    if (rc >= 0)
        return rc;
    if (!valid_id(c.pos[0]))
        return api_cmd_usage_error(&c, "ID must be a swap id (decimal)");
    tcn_client *cl;
    if ((rc = api_cmd_client(&c, false, false, &cl)) >= 0)
        return rc;
    char path[64];
    snprintf(path, sizeof(path), "/v1/swaps/%s", c.pos[0]);
    tcn_client_response r;
    rc = api_cmd_call(&c, cl, "GET", path, NULL, false, 200, 200, &r);
    tcn_client_free(cl);
    if (rc >= 0)
        return rc;
    const json_t *b = r.body;
    if (c.json) {
        tcn_cli_json_print(json_incref(r.body));
    } else {
        printf("swap %lld: %s, amount %lld, balance %lld, escrow %s\n", json_integer_value(json_object_get(b, "swap_id")),
               json_string_value(json_object_get(b, "state")), json_integer_value(json_object_get(b, "amount")),
               json_integer_value(json_object_get(b, "balance")), json_string_value(json_object_get(b, "escrow")));
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(b, "payouts"), i, p)
        {
            printf("  payout %lld: %s, %lld to %s due %s\n", json_integer_value(json_object_get(p, "payout_id")),
                   json_string_value(json_object_get(p, "status")), json_integer_value(json_object_get(p, "amount")),
                   json_string_value(json_object_get(p, "to")), json_string_value(json_object_get(p, "due")));
        }
        const char *refund = json_string_value(json_object_get(b, "refund_tx"));
        printf("refund: %s\n", refund != NULL ? refund : "(none)");
    }
    tcn_client_response_free(&r);
    return TCN_EXIT_OK;
}

int tcn_cmd_swap(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "create") == 0)
        return swap_create(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "show") == 0)
        return swap_show(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(swap_usage, stdout);
        return TCN_EXIT_OK;
    }
    fprintf(stderr, "tcn swap: expected 'create' or 'show'\n%s", swap_usage);
    return TCN_EXIT_USAGE;
}

static const char payout_usage[] =
    "usage: tcn payout schedule --node URL --swap ID --to PUBKEY --amount LAMPORTS --at RFC3339|+SECONDS [--json]\n"
    "  schedules a payout from the swap's escrow; the leader pays it once due\n" API_CMD_COMMON_HELP;

int tcn_cmd_payout(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(payout_usage, stdout);
        return TCN_EXIT_OK;
    }
    if (argc < 2 || strcmp(argv[1], "schedule") != 0) {
        fprintf(stderr, "tcn payout: expected 'schedule'\n%s", payout_usage);
        return TCN_EXIT_USAGE;
    }
    argc--, argv++;
    api_cmd c = {.name = "payout schedule", .usage = payout_usage, .n_flags = 4,
                 .flag_names = {"--swap", "--to", "--amount", "--at"}};
    int rc = api_cmd_parse(&c, argc, argv, 0, 0);
    if (rc >= 0)
        return rc;
    const char *swap = api_cmd_flag(&c, "--swap"), *to = api_cmd_flag(&c, "--to"),
               *amount_s = api_cmd_flag(&c, "--amount"), *at = api_cmd_flag(&c, "--at");
    if (swap == NULL || to == NULL || amount_s == NULL || at == NULL)
        return api_cmd_usage_error(&c, "--swap, --to, --amount and --at are required");
    uint64_t amount;
    char when[48];
    if (!valid_id(swap))
        return api_cmd_usage_error(&c, "--swap must be a swap id (decimal)");
    if (!api_cmd_parse_amount(amount_s, false, &amount))
        return api_cmd_usage_error(&c, "--amount must be decimal lamports, 1..2^63-1");
    if (!api_cmd_parse_when(at, when, sizeof(when)))
        return api_cmd_usage_error(&c, "--at must be RFC 3339 or +SECONDS");
    tcn_client *cl;
    if ((rc = api_cmd_client(&c, true, false, &cl)) >= 0)
        return rc;
    char path[64];
    snprintf(path, sizeof(path), "/v1/swaps/%s/payouts", swap);
    tcn_client_response r;
    rc = api_cmd_call(&c, cl, "POST", path,
                      json_pack("{s:s,s:I,s:s}", "to", to, "amount", (json_int_t)amount, "at", when), true, 201, 201,
                      &r);
    tcn_client_free(cl);
    if (rc >= 0)
        return rc;
    if (c.json)
        tcn_cli_json_print(json_pack("{s:O}", "payout_id", json_object_get(r.body, "payout_id")));
    else
        printf("payout %lld scheduled: %" PRIu64 " lamports to %s at %s\n",
               json_integer_value(json_object_get(r.body, "payout_id")), amount, to, when);
    tcn_client_response_free(&r);
    return TCN_EXIT_OK;
}
