/* libFuzzer target: the JSON-RPC layer. The same bytes are read as an answer
 * by every client parser, getMultipleAccounts for 1 and 3 keys included
 * (refusals must say why; accepted answers must be consistent) and served as a request by the chain model's server (which
 * must always produce an answer). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain/model.h"
#include "chain/rpc.h"
#include "chain/rpc_serve.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void refused_says_why(int rc, const tcn_error *err)
{
    if (rc != TCN_OK && err->msg[0] == '\0')
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *j = (const char *)data;
    tcn_chain_rpc_error re;
    tcn_error err;
    uint64_t slot, v;
    tcn_chain_signature sig;
    tcn_chain_hash h;
    tcn_chain_rpc_account acc;
    tcn_chain_rpc_account accs[3];
    tcn_chain_rpc_status st[4];
    int rc;

    tcn_err_clear(&err);
    rc = tcn_chain_rpc_parse_get_account_info(j, size, 1, &slot, &acc, &re, &err);
    refused_says_why(rc, &err);
    if (rc == TCN_OK && acc.exists && acc.data_len > 0 && acc.data == NULL)
        abort();
    tcn_chain_rpc_account_free(&acc);
    /* getMultipleAccounts: on success every entry is consistent; on refusal nothing is left allocated */
    for (size_t n = 1; n <= 3; n += 2) {
        tcn_err_clear(&err);
        rc = tcn_chain_rpc_parse_get_multiple_accounts(j, size, 1, &slot, accs, n, &re, &err);
        refused_says_why(rc, &err);
        for (size_t i = 0; i < n; i++) {
            if (rc != TCN_OK && accs[i].data != NULL)
                abort();
            if (rc == TCN_OK && (re.present ? accs[i].exists : (accs[i].data_len > 0 && accs[i].data == NULL)))
                abort();
            tcn_chain_rpc_account_free(&accs[i]);
        }
        if (rc == TCN_OK && re.has_context_slot && !re.present)
            abort();
    }
    tcn_err_clear(&err);
    refused_says_why(tcn_chain_rpc_parse_get_balance(j, size, 1, &slot, &v, &re, &err), &err);
    tcn_err_clear(&err);
    refused_says_why(tcn_chain_rpc_parse_send_transaction(j, size, 1, &sig, &re, &err), &err);
    tcn_err_clear(&err);
    refused_says_why(tcn_chain_rpc_parse_get_signature_statuses(j, size, 1, &slot, st, 4, &re, &err), &err);
    tcn_err_clear(&err);
    refused_says_why(tcn_chain_rpc_parse_get_latest_blockhash(j, size, 1, &slot, &h, &v, &re, &err), &err);
    tcn_err_clear(&err);
    refused_says_why(tcn_chain_rpc_parse_get_slot(j, size, 1, &slot, &re, &err), &err);

    /* served as a request: always an answer, never a crash */
    static tcn_chain_model *m;
    static tcn_buf out;
    if (m == NULL && tcn_chain_model_new("fuzz", 4, NULL, &m, &err) != TCN_OK)
        abort();
    out.len = 0;
    if (tcn_chain_rpc_serve(m, j, size, &out) != TCN_OK || out.len == 0)
        abort();
    return 0;
}
