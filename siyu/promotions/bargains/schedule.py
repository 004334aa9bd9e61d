"""The cut schedule of a bargain, drawn once when it starts.

`helps` cuts that sum exactly to `total` (the start price minus the floor), each at least 1 fen,
earlier cuts larger on average (the first friends see the price move most, as in the apps
shoppers know). Integers only; the randomness is the operating system's (`secrets`), so a
schedule cannot be predicted from earlier ones. Stored with the bargain: a help takes the next
cut under the bargain's lock, needs no randomness there, and the outcome can be audited.
"""

import secrets

SPREAD = 1000  # each weight is a random factor in [SPREAD, 3 × SPREAD) times its position's weight


def cuts_draw(*, total: int, helps: int) -> list[int]:
    if helps < 1 or total < helps:
        raise ValueError("every cut needs at least 1 fen")
    # Position i (0 first) weighs (helps - i): the first cut is on average `helps` times the last.
    weights = [(SPREAD + secrets.randbelow(2 * SPREAD)) * (helps - i) for i in range(helps)]
    spare = total - helps  # what is shared out above the 1 fen every cut gets
    weight_sum = sum(weights)
    cuts = [1 + spare * w // weight_sum for w in weights]
    # Rounding down leaves fewer than `helps` fen: give them to the earliest cuts, one each.
    for i in range(total - sum(cuts)):
        cuts[i] += 1
    return cuts
