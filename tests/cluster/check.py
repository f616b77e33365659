#!/usr/bin/env python3
"""Chain-side checks of the cluster tests, against the ledger's JSON-RPC.

  check.py swaps LEDGER_URL FUNDED SWAP.json...
      For each swap (the JSON of `tcn swap show --json`), funded with FUNDED
      lamports by the test and nothing else:
      - every payout is PAID, its signature landed without error on the ledger;
      - each destination's balance on the ledger equals the sum of the PAID
        payouts to it (destinations are fresh keys of the test: a payout
        landed twice, or a payout lost, shows here);
      - conservation: FUNDED = escrow balance + sum(amount + fee) of its payouts
        (the escrow pays each payout's fee; nothing else may leave it);
      - the swap's current refund: refund_nonce is the nonce account's current
        value on the ledger (bytes 40..72 of its data), the refund transaction
        is bound to it (its recent blockhash), advances that nonce account and
        moves escrow balance - R - fee from the escrow to refund_to: it would
        empty the escrow down to the reserve R.
  check.py send-refunds LEDGER_URL SWAP.json...
      Sends each swap's current refund to the ledger, waits for it to land,
      and checks the escrow then holds exactly R and refund_to received the
      refund's amount: the refund the network holds really works.
Prints one line per check; exit 1 if any failed.
"""
import base64
import json
import sys
import time
import urllib.request

R = 890_880          # TCN_STATE_ESCROW_RESERVE
FEE = 10_000         # TCN_STATE_TX_FEE: two signatures
A = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
fails = 0


def b58d(s):
    n = 0
    for c in s:
        n = n * 58 + A.index(c)
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * (len(s) - len(s.lstrip("1"))) + body


def b58e(b):
    n = int.from_bytes(b, "big")
    s = ""
    while n:
        n, r = divmod(n, 58)
        s = A[r] + s
    return "1" * (len(b) - len(b.lstrip(b"\0"))) + s


def rpc(url, method, params):
    req = urllib.request.Request(url, data=json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                                                        "params": params}).encode(),
                                 headers={"Content-Type": "application/json"})
    ans = json.load(urllib.request.urlopen(req, timeout=10))
    if "error" in ans:
        raise RuntimeError(f"{method}: {ans['error']}")
    return ans["result"]


def balance(url, pk):
    return rpc(url, "getBalance", [pk])["value"]


def account(url, pk):
    v = rpc(url, "getAccountInfo", [pk, {"encoding": "base64"}])["value"]
    return None if v is None else (v["lamports"], base64.b64decode(v["data"][0]), v["owner"])


def result(ok, what):
    global fails
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        fails += 1
    return ok


def shortvec(b, i):
    n = shift = 0
    while True:
        x = b[i]
        i += 1
        n |= (x & 0x7F) << shift
        shift += 7
        if not x & 0x80:
            return n, i


def parse_tx(raw):
    """A legacy transaction: (signatures, account keys, recent blockhash, [(program, [accounts], data)])."""
    nsig, i = shortvec(raw, 0)
    sigs = [raw[i + 64 * k:i + 64 * k + 64] for k in range(nsig)]
    i += 64 * nsig
    i += 3  # header
    nkeys, i = shortvec(raw, i)
    keys = [raw[i + 32 * k:i + 32 * k + 32] for k in range(nkeys)]
    i += 32 * nkeys
    blockhash = raw[i:i + 32]
    i += 32
    nix, i = shortvec(raw, i)
    ixs = []
    for _ in range(nix):
        prog = raw[i]
        i += 1
        na, i = shortvec(raw, i)
        accs = list(raw[i:i + na])
        i += na
        nd, i = shortvec(raw, i)
        ixs.append((keys[prog], [keys[a] for a in accs], raw[i:i + nd]))
        i += nd
    if i != len(raw):
        raise ValueError(f"{len(raw) - i} trailing bytes")
    return sigs, keys, blockhash, ixs


SYSTEM = b"\0" * 32


def refund_parts(tx_b64):
    """(nonce value, nonce account, from, to, lamports) of a refund: AdvanceNonce + Transfer."""
    sigs, keys, bh, ixs = parse_tx(base64.b64decode(tx_b64))
    if len(ixs) != 2 or ixs[0][0] != SYSTEM or ixs[1][0] != SYSTEM:
        raise ValueError("not AdvanceNonceAccount + Transfer of the System program")
    adv, tr = ixs
    if int.from_bytes(adv[2][:4], "little") != 4 or len(adv[2]) != 4:
        raise ValueError("first instruction is not AdvanceNonceAccount")
    if int.from_bytes(tr[2][:4], "little") != 2 or len(tr[2]) != 12:
        raise ValueError("second instruction is not Transfer")
    return bh, adv[1][0], tr[1][0], tr[1][1], int.from_bytes(tr[2][4:12], "little"), sigs


def check_swaps(url, funded, files):
    swaps = [json.load(open(f)) for f in files]
    dest = {}
    for s in swaps:
        sid = s["swap_id"]
        pays = s["payouts"]
        paid = [p for p in pays if p["status"] == "paid"]
        result(len(paid) == len(pays), f"swap {sid}: {len(paid)}/{len(pays)} payouts PAID "
               f"({[p['status'] for p in pays]})")
        sigs_seen = set()
        for p in pays:
            dest.setdefault(p["to"], 0)
            if p["status"] == "paid":
                dest[p["to"]] += p["amount"]
            sig = p["signature"]
            if sig is None:
                result(False, f"swap {sid} payout {p['payout_id']}: no signature")
                continue
            result(sig not in sigs_seen, f"swap {sid} payout {p['payout_id']}: signature unique")
            sigs_seen.add(sig)
            st = rpc(url, "getSignatureStatuses", [[sig], {"searchTransactionHistory": True}])["value"][0]
            result(st is not None and st.get("err") is None,
                   f"swap {sid} payout {p['payout_id']} ({p['amount']} to {p['to'][:8]}..): landed "
                   f"on the ledger ({'slot ' + str(st['slot']) if st else 'unknown signature'}), "
                   f"attempts {p['attempts']}")
        esc = balance(url, s["escrow"])
        spent = sum(p["amount"] + FEE for p in paid)
        result(funded == esc + spent, f"swap {sid}: conservation: funded {funded} = escrow {esc} + "
               f"payouts and fees {spent}")
        result(s["balance"] == esc, f"swap {sid}: the network's view of the escrow ({s['balance']}) "
               f"is the ledger's ({esc})")
        acc = account(url, s["nonce_account"])
        if not result(acc is not None and len(acc[1]) == 80 and acc[2] == "1" * 32,
                      f"swap {sid}: nonce account {s['nonce_account'][:8]}.. exists (80 bytes, System)"):
            continue
        nonce_now = b58e(acc[1][40:72])
        result(s["refund_nonce"] == nonce_now, f"swap {sid}: refund_nonce {s['refund_nonce']} is the "
               f"nonce account's value on the ledger ({nonce_now})")
        if s["refund_tx"] is None:
            result(False, f"swap {sid}: no current refund (escrow {esc})")
            continue
        try:
            bh, nacc, frm, to, lam, sigs = refund_parts(s["refund_tx"])
        except Exception as e:  # noqa: BLE001 - any decoding failure is a failed check
            result(False, f"swap {sid}: refund does not decode: {e}")
            continue
        result(b58e(bh) == nonce_now, f"swap {sid}: the refund is bound to the current nonce value")
        result(b58e(nacc) == s["nonce_account"], f"swap {sid}: the refund advances the swap's nonce account")
        result(b58e(frm) == s["escrow"] and b58e(to) == s["refund_to"],
               f"swap {sid}: the refund moves escrow -> refund_to")
        result(lam == esc - R - FEE, f"swap {sid}: the refund moves {lam} = escrow {esc} - R - fee "
               f"(leaves the reserve)")
        result(len(sigs) == 2, f"swap {sid}: the refund carries 2 signatures")
    for pk, want in dest.items():
        got = balance(url, pk)
        result(got == want, f"destination {pk[:8]}..: ledger balance {got} = sum of its PAID payouts {want}")


def send_refunds(url, files):
    for f in files:
        s = json.load(open(f))
        sid = s["swap_id"]
        esc0 = balance(url, s["escrow"])
        to0 = balance(url, s["refund_to"])
        lam = refund_parts(s["refund_tx"])[4]
        sig = rpc(url, "sendTransaction", [s["refund_tx"], {"encoding": "base64"}])
        st = None
        for _ in range(100):
            st = rpc(url, "getSignatureStatuses", [[sig], {"searchTransactionHistory": True}])["value"][0]
            if st is not None:
                break
            time.sleep(0.1)
        result(st is not None and st.get("err") is None, f"swap {sid}: the refund landed ({st})")
        esc1 = balance(url, s["escrow"])
        to1 = balance(url, s["refund_to"])
        result(esc1 == R, f"swap {sid}: after the refund the escrow holds R exactly ({esc1}, was {esc0})")
        result(to1 - to0 == lam, f"swap {sid}: refund_to received {to1 - to0}, the refund's {lam}")


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "swaps":
        check_swaps(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
    elif len(sys.argv) >= 3 and sys.argv[1] == "send-refunds":
        send_refunds(sys.argv[2], sys.argv[3:])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
