// Package pii finds personal data in text: e-mail addresses, phone numbers,
// payment card numbers, IBANs, US social security numbers, IP and MAC
// addresses and crypto-currency wallet addresses.
//
// Every recogniser works in two steps. A cheap candidate scan (a byte-level
// prefilter followed by an RE2 regular expression that runs only over the
// small windows of text that can hold an entity) proposes spans, and a
// validator checks each span with the entity's own rules: Luhn and issuer
// ranges for cards, the country length table and mod-97 for IBANs,
// libphonenumber metadata for phone numbers, Base58Check, bech32/bech32m and
// EIP-55 checksums for wallets, net/netip for IP addresses. Each match has a
// confidence score; context words near a match (e.g. "card" before a card
// number) raise it, a few negative words (e.g. "version" before 1.2.3.4)
// suppress it.
//
// Phone numbers are accepted with libphonenumber's leniency where the
// writing says "phone" (a '+', "00" or "001" prefix, a national trunk
// prefix, phone-style grouping, an extension); card numbers by the
// published IIN ranges of each brand and Luhn; obfuscated e-mail addresses
// ("name[at]example[dot]com") count as e-mail addresses. Scan returns one
// entity per span: overlapping candidates resolve to the most specific
// validated entity (an IBAN or card over an SSN over a phone number).
// piigen generates the labelled synthetic benchmark the recognisers are
// measured on (tools/piibench, docs/DETECTION.md).
//
// Entity names follow Microsoft Presidio: EMAIL_ADDRESS, PHONE_NUMBER,
// CREDIT_CARD, IBAN_CODE, US_SSN, IP_ADDRESS, MAC_ADDRESS, CRYPTO.
//
// Offsets in Match are byte offsets into the scanned string; use
// CodePointOffsets to convert them for findings, which count code points.
package pii
