//! Redis's glob matching (`stringmatchlen` in util.c): `*`, `?`, `[abc]`, `[^a-z]`, `\x`.
//!
//! Two guards against abusive patterns, both Redis's:
//! - `skip_longer` (7.0.9+, the fix of CVE-2022-36021): once the rest of the pattern after a
//!   `*` matched nowhere in the rest of the string, no earlier `*` can make it match by
//!   taking more characters, so the search stops instead of trying every split
//!   (`KEYS *a*a*a*...*b` against a long key was exponential).
//! - a nesting limit of 1000 `*` levels (7.2.5+): the recursion would otherwise follow the
//!   pattern's stars down the stack, and a pattern of many thousand stars overflows it.

/// Whether `s` matches `pattern` (case-sensitive, as KEYS and SCAN MATCH use it).
pub fn glob_match(pattern: &[u8], s: &[u8]) -> bool {
    let mut skip_longer = false;
    matches(pattern, s, false, &mut skip_longer, 0)
}

/// Case-insensitive, as CONFIG GET uses it.
pub fn glob_match_nocase(pattern: &[u8], s: &[u8]) -> bool {
    let mut skip_longer = false;
    matches(pattern, s, true, &mut skip_longer, 0)
}

const MAX_NESTING: usize = 1000;

fn eq(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

fn matches(p: &[u8], s: &[u8], nocase: bool, skip_longer: &mut bool, nesting: usize) -> bool {
    if nesting > MAX_NESTING {
        return false;
    }
    let (mut pi, mut si) = (0, 0);
    while pi < p.len() && si < s.len() {
        match p[pi] {
            b'*' => {
                while pi + 1 < p.len() && p[pi + 1] == b'*' {
                    pi += 1;
                }
                if pi + 1 == p.len() {
                    return true;
                }
                while si < s.len() {
                    if matches(&p[pi + 1..], &s[si..], nocase, skip_longer, nesting + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    si += 1;
                }
                *skip_longer = true;
                return false;
            }
            b'?' => si += 1,
            b'[' => {
                pi += 1;
                let not = p.get(pi) == Some(&b'^');
                if not {
                    pi += 1;
                }
                let c = s[si];
                let mut matched = false;
                loop {
                    if pi >= p.len() {
                        // An unclosed class: Redis steps back so the loop's increment lands
                        // on the end of the pattern.
                        pi -= 1;
                        break;
                    }
                    if p[pi] == b'\\' && p.len() - pi >= 2 {
                        pi += 1;
                        matched |= p[pi] == c;
                    } else if p[pi] == b']' {
                        break;
                    } else if p.len() - pi >= 3 && p[pi + 1] == b'-' {
                        let (mut lo, mut hi, mut x) = (p[pi], p[pi + 2], c);
                        if lo > hi {
                            std::mem::swap(&mut lo, &mut hi);
                        }
                        if nocase {
                            lo = lo.to_ascii_lowercase();
                            hi = hi.to_ascii_lowercase();
                            x = x.to_ascii_lowercase();
                        }
                        pi += 2;
                        matched |= x >= lo && x <= hi;
                    } else {
                        matched |= eq(p[pi], c, nocase);
                    }
                    pi += 1;
                }
                if matched == not {
                    return false;
                }
                si += 1;
            }
            b'\\' => {
                if p.len() - pi >= 2 {
                    pi += 1;
                }
                if !eq(p[pi], s[si], nocase) {
                    return false;
                }
                si += 1;
            }
            c => {
                if !eq(c, s[si], nocase) {
                    return false;
                }
                si += 1;
            }
        }
        pi += 1;
        if si == s.len() {
            while pi < p.len() && p[pi] == b'*' {
                pi += 1;
            }
            break;
        }
    }
    pi == p.len() && si == s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match(b"*", b"anything"));
        assert!(glob_match(b"k*", b"key:1"));
        assert!(!glob_match(b"k*", b"akey"));
        assert!(glob_match(b"h?llo", b"hello"));
        assert!(glob_match(b"h[ae]llo", b"hallo"));
        assert!(!glob_match(b"h[^e]llo", b"hello"));
        assert!(glob_match(b"key:[0-9]", b"key:7"));
        assert!(glob_match(b"a\\*b", b"a*b"));
        assert!(glob_match(b"repl-*", b"repl-backlog-size"));
        assert!(glob_match(b"a*", b"a"));
        assert!(!glob_match(b"", b"a"));
        assert!(glob_match(b"", b""));
        assert!(
            !glob_match(b"[", b"["),
            "an unclosed class matches nothing, as in Redis"
        );
        assert!(glob_match_nocase(b"REPL-*", b"repl-backlog-size"));
        assert!(!glob_match(b"REPL-*", b"repl-backlog-size"));
    }

    #[test]
    fn abusive_patterns_stay_fast() {
        // KEYS '*a*a*...*b' against 64 × 'a': exponential without skip_longer.
        let key = vec![b'a'; 64];
        let mut pat = b"*a".repeat(12);
        pat.extend_from_slice(b"*b");
        let t = std::time::Instant::now();
        assert!(!glob_match(&pat, &key));
        assert!(t.elapsed() < std::time::Duration::from_secs(1));
        // Thousands of stars: the nesting limit keeps the recursion off the stack's end.
        let deep = b"a*".repeat(100_000);
        let t = std::time::Instant::now();
        let s = vec![b'a'; 200_000];
        let _ = glob_match(&deep, &s);
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
    }
}
