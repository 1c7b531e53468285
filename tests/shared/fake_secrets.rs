//! Fake secrets from a fixed seed, shared by the redaction unit tests (in the `tacit` crate)
//! and the planted-secrets end-to-end test. The two crates share no library, so each includes
//! this file by path.

/// Fake secrets from a fixed seed: shaped like real ones so that the rules catch them, never
/// real credentials, and no secret-looking literal in the source for scanners to flag.
pub struct Fake(pub u64);

impl Fake {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn pick(&mut self, alphabet: &str, n: usize) -> String {
        let chars: Vec<char> = alphabet.chars().collect();
        (0..n)
            .map(|_| chars[(self.next() % chars.len() as u64) as usize])
            .collect()
    }

    pub fn alnum(&mut self, n: usize) -> String {
        // Both a digit and a letter, as every real key of these kinds has.
        let mut s = self.pick(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            n - 2,
        );
        s.insert_str(n / 3, &(self.pick("0123456789", 1) + &self.pick("kqwz", 1)));
        s
    }

    pub fn hex(&mut self, n: usize) -> String {
        self.pick("0123456789abcdef", n)
    }

    pub fn digits(&mut self, n: usize) -> String {
        self.pick("123456789", n)
    }

    pub fn upper(&mut self, n: usize) -> String {
        self.pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", n)
    }

    pub fn base64(&mut self, n: usize) -> String {
        self.pick(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
            n,
        )
    }

    pub fn base64url(&mut self, n: usize) -> String {
        self.pick(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_",
            n,
        )
    }
}
