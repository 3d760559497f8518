package pii

import (
	_ "embed"
	"regexp"
	"strings"
	"sync"
)

// Location is the entity of place names (cities, states and provinces,
// countries); optional like Person.
const Location = "LOCATION"

//go:embed data/places.txt.gz
var placesGz []byte

// placeSet loads the place gazetteer (data/README.md) and the country
// names on first use, so that scanners without LOCATION never pay for it.
// (The embedded file is checked by TestPlaces.)
var placeSet = sync.OnceValue(func() map[string]bool { return gzWordSet(placesGz, countries...) })

// countries are country names as English text writes them.
var countries = []string{"Afghanistan", "Albania", "Algeria", "Argentina", "Armenia", "Australia", "Austria", "Azerbaijan", "Bangladesh", "Belarus",
	"Belgium", "Bolivia", "Bosnia", "Brazil", "Bulgaria", "Cambodia", "Cameroon", "Canada", "Chile", "China", "Colombia", "Croatia", "Cuba",
	"Cyprus", "Czechia", "Czech Republic", "Denmark", "Ecuador", "Egypt", "England", "Estonia", "Ethiopia", "Finland", "France", "Germany",
	"Ghana", "Greece", "Guatemala", "Hungary", "Iceland", "India", "Indonesia", "Iran", "Iraq", "Ireland", "Israel", "Italy", "Jamaica", "Japan",
	"Jordan", "Kazakhstan", "Kenya", "Korea", "South Korea", "Kuwait", "Latvia", "Lebanon", "Lithuania", "Luxembourg", "Malaysia", "Mexico",
	"Morocco", "Nepal", "Netherlands", "New Zealand", "Nigeria", "Norway", "Pakistan", "Peru", "Philippines", "Poland", "Portugal", "Qatar",
	"Romania", "Russia", "Saudi Arabia", "Scotland", "Senegal", "Serbia", "Singapore", "Slovakia", "Slovenia", "South Africa", "Spain",
	"Sri Lanka", "Sweden", "Switzerland", "Syria", "Taiwan", "Tanzania", "Thailand", "Tunisia", "Turkey", "Uganda", "Ukraine",
	"United Kingdom", "United States", "United Arab Emirates", "Uruguay", "Venezuela", "Vietnam", "Wales", "Zambia", "Zimbabwe"}

// rePlaceCand is one to three capitalised words (a place name may carry
// lower-case particles: "Rio de Janeiro").
var rePlaceCand = regexp.MustCompile(`\p{Lu}[\p{L}'’.-]+(?:[ ](?:(?:de|del|da|do|la|le|am|an|upon|on|sur)[ ])?\p{Lu}[\p{L}'’.-]+){0,3}`)

// placeLead are the words right before a place name that make it one.
var placeLead = []string{"in", "from", "to", "near", "at", "of", "via", "visit", "visited", "visiting", "born in", "lives in", "living in",
	"based in", "moved to", "located in", "city of", "town of", "headquartered in", "resident of", "office in", "travel to", "flight to"}

// notPlaceWords are capitalised words that the gazetteer holds but that
// are more often something else.
var notPlaceWords = map[string]bool{"May": true, "Best": true, "Young": true, "Mobile": true, "Order": true, "Home": true, "Mission": true,
	"Union": true, "Temple": true, "Orange": true, "Florence": true, "Victoria": true, "Hope": true, "Independence": true, "Enterprise": true,
	"Commerce": true, "Justice": true, "Liberty": true, "Progress": true, "Friendship": true, "Unity": true, "Bank": true, "Street": true,
	"Monday": true, "Tuesday": true, "Wednesday": true, "Thursday": true, "Friday": true, "Saturday": true, "Sunday": true, "January": true,
	"February": true, "March": true, "April": true, "June": true, "July": true, "August": true, "September": true, "October": true,
	"November": true, "December": true, "Suite": true, "Apartment": true, "Unit": true, "Please": true, "Thanks": true, "Dear": true}

// postcodeForms are the postcode shapes by country, for the address
// context of a place: US ZIP and ZIP+4, Canada, the United Kingdom, the
// Netherlands, Portugal, Poland, Japan, Brazil, India, Sweden, and the
// four- and five-digit codes of most of Europe and Australia.
var postcodeForms = []string{
	`\d{5}(?:-\d{4})?`,                   // US; DE, FR, ES, IT, FI (5 digits)
	`[A-Z]\d[A-Z][ ]?\d[A-Z]\d`,          // CA
	`[A-Z]{1,2}\d[A-Z\d]?[ ]?\d[A-Z]{2}`, // GB
	`\d{4}[ ]?[A-Z]{2}`,                  // NL
	`\d{4}-\d{3}`,                        // PT
	`\d{2}-\d{3}`,                        // PL
	`\d{3}-\d{4}`,                        // JP
	`\d{5}-\d{3}`,                        // BR
	`\d{6}`,                              // IN
	`\d{3}[ ]\d{2}`,                      // SE, CZ, SK, GR
	`\d{4}`,                              // AT, CH, BE, DK, NO, AU, HU
}

var pcAlt = `(?:` + strings.Join(postcodeForms, `|`) + `)`

// reAfterPlace is what follows a place in an address: a state code and a
// postcode, a postcode, or a comma and a state or country.
var reAfterPlace = regexp.MustCompile(`^,?[ ](?:[A-Z]{2}[ ]` + pcAlt + `\b|[A-Z]{2}\b|` + pcAlt + `\b)|^,[ ]\p{Lu}\p{Ll}+`)

// reBeforePlace is a postcode written before the place ("75008 Paris",
// "1012 AB Amsterdam", "SW1A 1AA London").
var reBeforePlace = regexp.MustCompile(`(?:^|[ ,])` + pcAlt + `,?[ ]$`)

// locations finds LOCATION spans: a gazetteer place right after a place
// word ("moved to Lyon"), after a street address and a comma, or followed
// by a state code, postcode or a comma and another place.
func locations(text string, streets []cand) []cand {
	set := placeSet()
	var out []cand
	for _, loc := range rePlaceCand.FindAllStringIndex(text, -1) {
		st, en := loc[0], loc[1]
		// the longest prefix of the words that is a place
		for en > st && (text[en-1] == '.' || text[en-1] == '-' || text[en-1] == '\'') {
			en--
		}
		cand0 := text[st:en]
		name := ""
		for w := cand0; w != ""; {
			if t := strings.TrimRight(w, ".'-"); set[t] && !notPlaceWords[t] {
				name = t
				break
			}
			k := strings.LastIndexByte(w, ' ')
			if k < 0 {
				break
			}
			w = w[:k]
		}
		if name == "" {
			// "LG Amsterdam": the place may follow other capitalised words
			if k := strings.LastIndexByte(cand0, ' '); k > 0 {
				if t := strings.TrimRight(cand0[k+1:], ".'-"); set[t] && !notPlaceWords[t] {
					name, st = t, st+k+1
				}
			}
		}
		if name == "" {
			continue
		}
		en = st + len(name)
		if !placeContext(text, st, en, streets) {
			continue
		}
		out = append(out, cand{st, en, 0.7})
	}
	return out
}

func placeContext(text string, st, en int, streets []cand) bool {
	for _, s := range streets {
		if s.end <= st && st-s.end <= 3 && strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(text[s.end:st]), ",")) == "" {
			return true
		}
	}
	if reAfterPlace.MatchString(text[en:min(len(text), en+14)]) || reBeforePlace.MatchString(text[max(0, st-14):st]) {
		return true
	}
	// the place word right before
	lo := max(0, st-20)
	seg := strings.ToLower(text[lo:st])
	seg = strings.TrimRight(seg, " ")
	for _, w := range placeLead {
		if strings.HasSuffix(seg, w) && (len(seg) == len(w) || !isAlnum(seg[len(seg)-len(w)-1])) {
			return true
		}
	}
	return false
}
