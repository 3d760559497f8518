// Package normalize turns untrusted prompt text into a canonical form that
// every rampart injection/jailbreak scanner matches against, and keeps a map
// from every normalised byte back to the code-point offsets of the original
// text so findings can be reported against what the user actually sent.
//
// The pipeline (see Normalize) is, per input character:
//
//  1. NFKC (golang.org/x/text/unicode/norm), segment by segment, so that
//     fullwidth, mathematical-alphanumeric, ligature and other compatibility
//     forms collapse onto their plain letters;
//  2. removal of invisible and formatting characters (zero-width, bidi
//     controls, tag characters, variation selectors, soft hyphen, other Cf
//     and default-ignorable code points, C0/C1 controls); tag characters are
//     additionally decoded to the ASCII they smuggle and reported;
//     blank-looking letters (Hangul fillers, Braille blank) become spaces;
//  3. simple case folding (per rune, so offsets stay exact);
//  4. a restricted Unicode TR39 confusables skeleton: non-ASCII characters
//     whose confusable prototype is ASCII are replaced by that ASCII (Cyrillic
//     "о" → "o"); ASCII itself is never remapped (TR39 would turn "m" into
//     "rn"), and diacritics on Latin/Greek/Cyrillic letters are stripped;
//  5. whitespace runs collapsed to a single space.
//
// Everything that was removed or neutralised is reported in Text.Hidden with
// code-point offsets into the original. Chat-template special tokens
// (<|im_start|>, [INST], <<SYS>> …) are located by FindSpecialTokens and
// broken by NeutralizeSpecialTokens; Normalize reports the ones it sees.
//
// Decode finds encoded payloads (base64, base32, hex, %XX, ROT13, leetspeak,
// reversed text) and returns the decoded variants, recursively and within
// fixed budgets, so scanners can run again on what an attacker hid.
//
// The confusables table is generated from Unicode's confusables.txt by
// internal/gen (go generate); see README.md for provenance and licence.
package normalize

//go:generate go run ./internal/gen -cfu testdata/confusables.cfu -source "ICU 72.1 data com/ibm/icu/impl/data/icudt72b/confusables.cfu (compiled from Unicode 15.0 confusables.txt) in Debian package libicu4j-java 72.1-1 (bookworm), icu4j-60.2.jar"
