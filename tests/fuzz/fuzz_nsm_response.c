/* libFuzzer target: the /dev/nsm Attestation response decoder, then the document parser on what it returns. */
#include <stddef.h>
#include <stdint.h>

#include "attest/nitro.h"
#include "attest/nitro_doc.h"
#include "util/assert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *doc = NULL;
    size_t doc_len = 0;
    tcn_error err;
    tcn_err_clear(&err);
    if (tcn_nitro_nsm_decode_attestation_response(data, size, &doc, &doc_len, &err) != TCN_OK)
        return 0;
    /* The contract: the document points into the response. */
    TCN_ASSERT(doc >= data && doc_len > 0 && doc_len <= size && (size_t)(doc - data) <= size - doc_len);
    tcn_nitro_doc d;
    if (tcn_nitro_doc_parse(doc, doc_len, &d, &err) == TCN_OK)
        TCN_ASSERT(d.cabundle_count >= 1 && d.module_id[0] != '\0');
    tcn_nitro_doc_free(&d);
    return 0;
}
