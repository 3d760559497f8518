package pii

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"io"
	"regexp"
	"strings"
	"sync"
)

// Optional entities: off unless Config.Entities names them (they are
// recognised by gazetteer and grammar, with lower precision than the
// checksum-validated entities; see docs/DETECTION.md).
const (
	Person        = "PERSON"
	StreetAddress = "STREET_ADDRESS"
)

// OptionalEntities are entities that Config.Entities may list but that an
// empty Config.Entities does not enable.
var OptionalEntities = []string{Person, Location, StreetAddress}

//go:embed data/given_names.txt
var givenNamesTxt string

// givenNames is the gazetteer of given names (data/README.md says where
// it comes from and under which licence).
var givenNames = func() map[string]bool {
	m := make(map[string]bool, 9000)
	for _, n := range strings.Split(givenNamesTxt, "\n") {
		if n = strings.TrimSpace(n); n != "" {
			m[n] = true
		}
	}
	return m
}()

//go:embed data/human_names.txt.gz
var humanNamesGz []byte

// humanNameSet loads the first-and-last-name gazetteer (data/README.md)
// on first use: names of many origins, less the ones that are also
// English words. (The embedded file is checked by TestNamesAndAddresses.)
var humanNameSet = sync.OnceValue(func() map[string]bool { return gzWordSet(humanNamesGz) })

// gzWordSet reads an embedded gzip file of one entry per line (at most 8
// MiB unpacked) into a set, plus extra entries; a broken file gives what
// could be read.
func gzWordSet(gz []byte, extra ...string) map[string]bool {
	set := map[string]bool{}
	for _, n := range extra {
		set[n] = true
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return set
	}
	b, err := io.ReadAll(io.LimitReader(zr, 8<<20))
	if err != nil {
		return set
	}
	for _, n := range strings.Split(string(b), "\n") {
		if n != "" {
			set[n] = true
		}
	}
	return set
}

const capWord = `\p{Lu}(?:['’]\p{Lu})?\p{Ll}+(?:[-'’]\p{Lu}?\p{Ll}+)?`

var (
	// rePersonCand is a run of one to three capitalised words, maybe
	// after a title.
	rePersonTitled = regexp.MustCompile(`\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Madam|Herr|Frau|Mme|Mlle|Sr|Sra)\.?[ ]+` + capWord + `(?:[ ]` + capWord + `){0,2}`)
	rePersonCand   = regexp.MustCompile(`(?:\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Madam|Herr|Frau|Mme|Mlle|Sr|Sra)\.?\s+)?` + capWord + `(?:[ ]` + capWord + `){0,2}`)
	// reStreet is a house number, one to four capitalised words and a
	// street suffix, maybe a flat; or a German-style street name ending
	// in a suffix followed by the number.
	reStreet = regexp.MustCompile(`\b\d{1,6}[A-Za-z]?[ ]+(?:(?:\p{Lu}[\p{L}'’.-]*|of|de|la|del)[ ]+){1,4}(?:Street|St|Avenue|Ave|Av|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Way|Ways|Court|Ct|Place|Pl|Square|Sq|Terrace|Ter|Parkway|Pkwy|Highway|Hwy|Circle|Cir|Trail|Trl|Crescent|Close|Plaza|Row|Walk|Mews|Loop|Pike|Alley|Crossing|Expressway|Freeway|Gardens|Green|Grove|Heights|Hill|Junction|Park|Path|Point|Ridge|Run|View|Villages?|Wells?|Estates?|Fields?|Flats?|Forks?|Harbor|Haven|Island|Knolls?|Lakes?|Meadows?|Mills?|Mission|Mount|Orchard|Pass|Port|Prairie|Ranch|Shoals?|Shores?|Springs?|Spurs?|Stations?|Streams?|Summit|Throughway|Trace|Track|Tunnel|Turnpike|Underpass|Unions?|Valleys?|Viaduct|Vista|Bypass|Camp|Canyon|Cape|Causeway|Centers?|Cliffs?|Club|Common|Corners?|Course|Courts|Coves?|Creek|Crest|Curve|Dale|Dam|Divide|Drives|Extensions?|Falls|Ferry|Fords?|Forest|Forges?|Fort|Freeway|Glens?|Harbors|Hollow|Inlet|Islands|Isle|Keys?|Landing|Lights?|Locks?|Lodge|Manors?|Motorway|Neck|Oval|Overpass|Pines|Plains?|Radial|Ramp|Rapids?|Rest|Roads|Route|Shoal|Skyway|Squares|Streets|Trafficway|Vias?|Ville)\b\.?(?:,?[ ]+(?:Apt|Apartment|Suite|Ste|Unit|Flat|#)\.?[ ]*[0-9A-Za-z-]{1,6})?` +
		`|\b\p{Lu}\p{Ll}+(?:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm)\s+\d{1,4}[a-z]?\b` +
		`|\b(?:Rue|Avenue|Boulevard|Via|Viale|Calle|Avenida|Rua|Plaza|Piazza)\s+(?:(?:de|del|della|di|da|la|le|des|du|dos|das)\s+)?\p{Lu}[\p{L}'’-]+(?:\s+\p{Lu}[\p{L}'’-]+)?,?\s+\d{1,4}[a-z]?\b`)
)

// titles that make the following capitalised words a name.
var personTitles = map[string]bool{"Mr": true, "Mrs": true, "Ms": true, "Miss": true, "Mx": true, "Dr": true, "Prof": true, "Sir": true, "Madam": true,
	"Herr": true, "Frau": true, "Mme": true, "Mlle": true, "Sr": true, "Sra": true}

// notNameWords are capitalised words that a given-name gazetteer holds
// but that start sentences or name things more often than people.
var notNameWords = map[string]bool{"May": true, "Will": true, "June": true, "April": true, "August": true, "Art": true, "Bill": true, "Mark": true,
	"Page": true, "Hope": true, "Grace": true, "Rose": true, "Summer": true, "Autumn": true, "Dawn": true, "Joy": true, "Faith": true, "Sunday": true,
	"Monday": true, "Friday": true, "Chase": true, "My": true, "Dear": true, "Don": true, "Patient": true, "Signed": true, "Contact": true, "Please": true,
	"Thanks": true, "Thank": true, "Regards": true, "Cheers": true, "Hello": true, "Hi": true, "Also": true, "Best": true, "Kind": true, "Bank": true, "Street": true, "Royal": true, "Major": true, "General": true, "Case": true}

// names finds PERSON spans: a title followed by capitalised words, or a
// given name from the gazetteer followed by a capitalised surname.
func names(text string) []cand {
	var out []cand
	for _, loc := range rePersonTitled.FindAllStringIndex(text, -1) {
		out = append(out, cand{loc[0], loc[1], 0.8})
	}
	for _, loc := range rePersonCand.FindAllStringIndex(text, -1) {
		st, en := loc[0], loc[1]
		words := strings.Fields(text[st:en])
		// "Dear Lucas Yamamoto": the name starts at the given name
		for len(words) > 2 && !givenNames[words[0]] && givenNames[words[1]] {
			st += len(words[0]) + 1
			words = words[1:]
		}
		first := strings.TrimSuffix(words[0], ".")
		switch {
		case personTitles[first] && len(words) >= 2:
			out = append(out, cand{st, en, 0.8})
		case len(words) >= 2 && givenNames[first] && !notNameWords[first] && !notNameWords[words[1]] && !streetSuffixes[strings.ToLower(words[len(words)-1])]:
			out = append(out, cand{st, en, 0.65})
		case len(words) >= 2 && len(words) <= 3 && humanNameSet()[first] && allNames(words[1:]) && !streetSuffixes[strings.ToLower(words[len(words)-1])]:
			// "Wei Okafor": both from the wider list of names
			out = append(out, cand{st, en, 0.6})
		}
	}
	return out
}

// streetAddresses finds STREET_ADDRESS spans by the address grammar.
func streetAddresses(text string) []cand {
	var out []cand
	for _, loc := range reStreet.FindAllStringIndex(text, -1) {
		out = append(out, cand{loc[0], loc[1], 0.8})
	}
	return out
}

// allNames reports whether every word is a given name or in the wider
// name list (and none is a word the recogniser distrusts).
func allNames(ws []string) bool {
	h := humanNameSet()
	for _, w := range ws {
		if notNameWords[w] || !givenNames[w] && !h[w] {
			return false
		}
	}
	return true
}
