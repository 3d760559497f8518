package piigen

// Small hand-written name and place lists for the generator. The
// recogniser's gazetteers come from elsewhere (see detect/pii/names), so
// the benchmark does not only test names the gazetteer was built from.
var givenNames = []string{
	"James", "Maria", "Wei", "Aisha", "Olga", "Carlos", "Priya", "Liam", "Fatima", "Hiroshi", "Emma", "Noah", "Sofia", "Mateo",
	"Chloe", "Lucas", "Amara", "Ivan", "Ingrid", "Kwame", "Elena", "Tomás", "Yuki", "Sean", "Hannah", "Omar", "Grace", "Rafael",
	"Nadia", "Pedro", "Anika", "Jonas", "Leila", "Marco", "Zoe", "Daniel", "Sara", "Mohammed", "Julia", "Ethan", "Lena", "Victor",
}

var surnames = []string{
	"Smith", "Garcia", "Chen", "Okafor", "Müller", "Rossi", "Kowalski", "Nguyen", "Patel", "Johansson", "Dubois", "Silva", "Tanaka",
	"O'Brien", "Schmidt", "Kim", "Hernandez", "Ivanova", "Walker", "Mensah", "Novak", "Fischer", "Moreau", "Brown", "Lopez", "Singh",
	"Andersen", "Costa", "Yamamoto", "Murphy", "Wagner", "Lee", "Martin", "Taylor", "Clarke", "Bauer", "Santos", "Haddad", "Khan",
}

var cities = []string{
	"Springfield", "Chicago", "Houston", "Seattle", "Boston", "Denver", "Berlin", "Munich", "Paris", "Lyon", "Madrid", "Lisbon",
	"Toronto", "Sydney", "Melbourne", "Mumbai", "Nairobi", "Lagos", "Osaka", "Vienna", "Zurich", "Dublin", "Austin", "Portland",
}
