//! Stable hashing of partition keys: the embedded bus's partitioner and the handler router both
//! use it, so one key always lands on the same partition and the same handler actor.

/// FNV-1a, 64-bit: stable across processes, versions and platforms (unlike `DefaultHasher`).
pub fn stable_hash(key: &str) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    key.bytes().fold(OFFSET_BASIS, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

/// The slot in `0..slots` for `key`. `slots` must be at least 1.
pub fn slot_for(key: &str, slots: usize) -> usize {
    let slots = slots.max(1) as u64;
    (stable_hash(key) % slots) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_the_published_fnv1a() {
        assert_eq!(stable_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stable_hash("a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn same_key_same_slot_and_keys_spread() {
        assert_eq!(slot_for("acme:EX-1", 4), slot_for("acme:EX-1", 4));
        let mut used = [0usize; 4];
        for n in 0..400 {
            used[slot_for(&format!("acme:EX-{n}"), 4)] += 1;
        }
        assert!(used.iter().all(|count| *count > 50), "{used:?}");
        assert_eq!(slot_for("anything", 0), 0);
    }
}
