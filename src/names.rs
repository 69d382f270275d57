//! Tables of names packed into one string.
//!
//! Tables of `&str` cost a relocation each in a PIE: every entry is a pointer the loader fixes
//! up at start, 16 bytes in `.data.rel.ro` plus a 24-byte `R_X86_64_RELATIVE` entry in
//! `.rela.dyn`, more than most names themselves. [`names!`](crate::names!) and
//! [`table!`](crate::table!) read like such tables but pack the names into one string, each
//! name ended by a NUL, which code addresses relative to itself: no relocation for the names (a
//! [`Table`] the code takes a reference to costs one, for the whole table). Lookups are rare
//! and the tables short, so a linear scan is all they need.

/// Names packed in one string, each followed by a NUL; a name's index is its position.
#[derive(Debug, Clone, Copy)]
pub struct Names(&'static str);

impl Names {
    /// Wrap `packed` (what [`names!`](crate::names!) builds); checked at compile time in a
    /// `const`: every name ends with a NUL.
    pub const fn new(packed: &'static str) -> Names {
        assert!(
            packed.is_empty() || packed.as_bytes()[packed.len() - 1] == 0,
            "every name ends with a NUL"
        );
        Names(packed)
    }

    /// The number of names.
    pub const fn count(self) -> usize {
        let bytes = self.0.as_bytes();
        let (mut n, mut i) = (0, 0);
        while i < bytes.len() {
            if bytes[i] == 0 {
                n += 1;
            }
            i += 1;
        }
        n
    }

    /// The names, in order.
    pub fn iter(self) -> Iter {
        Iter(self.0)
    }
}

impl IntoIterator for Names {
    type Item = &'static str;
    type IntoIter = Iter;

    fn into_iter(self) -> Iter {
        self.iter()
    }
}

/// Iterator over [`Names`].
#[derive(Debug, Clone)]
pub struct Iter(&'static str);

impl Iterator for Iter {
    type Item = &'static str;

    fn next(&mut self) -> Option<&'static str> {
        let end = self.0.bytes().position(|b| b == 0)?;
        let name = self.0.get(..end);
        self.0 = self.0.get(end + 1..).unwrap_or_default();
        name
    }
}

/// Names with a value each, in the same order (what [`table!`](crate::table!) builds).
#[derive(Debug)]
pub struct Table<T: 'static, const N: usize> {
    names: Names,
    /// `values[i]` belongs to the `i`th name.
    values: [T; N],
}

impl<T: 'static, const N: usize> Table<T, N> {
    /// Pair `names` with `values`; checked at compile time in a `const`: one value per name.
    pub const fn new(names: Names, values: [T; N]) -> Self {
        assert!(names.count() == N, "one value per name");
        Table { names, values }
    }

    /// Every (name, value), in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &T)> {
        self.names.iter().zip(&self.values)
    }

    /// The first (name, value) whose name and value satisfy `pick`.
    pub fn find(
        &self,
        mut pick: impl FnMut(&'static str, &T) -> bool,
    ) -> Option<(&'static str, &T)> {
        self.iter().find(|&(name, value)| pick(name, value))
    }
}

/// A [`Names`] written as a list: `names!["CAP_CHOWN", "CAP_KILL"]`.
#[macro_export]
macro_rules! names {
    ($($name:literal),* $(,)?) => {
        // In a `const` block: checked at compile time and folded to a constant (a call in
        // every lookup otherwise).
        const { $crate::names::Names::new(concat!($($name, "\0"),*)) }
    };
}

/// An enum of texts, `#[repr(u16)]`, with its packed [`Names`] table: a value is two bytes, its
/// text is found on demand (only errors need it).
#[macro_export]
macro_rules! texts {
    ($(#[$meta:meta])* pub enum $name:ident { $($variant:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(u16)]
        #[allow(missing_docs, reason = "each variant is its text")]
        pub enum $name {
            $($variant,)*
        }

        impl $name {
            /// The text.
            pub fn text(self) -> &'static str {
                Self::text_of(self as u16)
            }

            /// The text of the value numbered `n`; empty past the last.
            pub fn text_of(n: u16) -> &'static str {
                const NAMES: $crate::names::Names = $crate::names![$($text),*];
                NAMES.iter().nth(n.into()).unwrap_or_default()
            }
        }
    };
}

/// A [`Table`] written as a list of tuples whose first member is the name:
/// `table![("ro", false, MS_RDONLY), ("rw", true, MS_RDONLY)]` pairs `"ro"` with
/// `(false, MS_RDONLY)`; `table![("private", MS_PRIVATE)]` pairs `"private"` with `MS_PRIVATE`.
#[macro_export]
macro_rules! table {
    ($(($name:literal, $($value:expr),+ $(,)?)),* $(,)?) => {
        $crate::names::Table::new($crate::names![$($name),*], [$(($($value),+)),*])
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: Names = crate::names!["a", "bc", ""];

    #[test]
    fn names() {
        assert_eq!(N.count(), 3);
        assert_eq!(N.iter().collect::<Vec<_>>(), ["a", "bc", ""]);
        assert_eq!(N.iter().position(|n| n == "bc"), Some(1));
        assert_eq!(N.iter().position(|n| n == "b"), None);
        assert_eq!(crate::names![].iter().count(), 0);
    }

    #[test]
    fn tables() {
        const T: Table<(bool, u32), 2> = crate::table![("x", true, 1), ("y", false, 2)];
        const U: Table<u32, 2> = crate::table![("x", 1), ("y", 2)];
        assert_eq!(T.find(|n, _| n == "y"), Some(("y", &(false, 2))));
        assert_eq!(U.find(|_, &v| v == 1), Some(("x", &1)));
        assert_eq!(U.iter().count(), 2);
    }
}
