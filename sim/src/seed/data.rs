//! The seed's raw material: cities with postcodes per region, company names, streets, people, and the
//! product catalogue with price ranges. Why data and not code: a new region or product is a new row.

pub const US: &[(&str, &str, &str)] = &[
    ("CA", "San Francisco", "94103"),
    ("CA", "Los Angeles", "90012"),
    ("TX", "Austin", "78701"),
    ("TX", "Houston", "77002"),
    ("NY", "New York", "10001"),
    ("WA", "Seattle", "98101"),
    ("FL", "Miami", "33130"),
    ("IL", "Chicago", "60601"),
    ("PA", "Philadelphia", "19103"),
    ("MA", "Boston", "02110"),
    ("CO", "Denver", "80202"),
    ("GA", "Atlanta", "30303"),
    ("NJ", "Newark", "07102"),
    ("OR", "Portland", "97204"),
    ("DE", "Wilmington", "19801"),
    ("NC", "Charlotte", "28202"),
    ("OH", "Columbus", "43215"),
    ("AZ", "Phoenix", "85004"),
    ("MN", "Minneapolis", "55401"),
    ("UT", "Salt Lake City", "84101"),
];
pub const CANADA: &[(&str, &str, &str)] = &[
    ("ON", "Toronto", "M5H 2N2"),
    ("QC", "Montréal", "H2Y 1C6"),
    ("BC", "Vancouver", "V6B 1A1"),
    ("AB", "Calgary", "T2P 1J9"),
];
pub const EU: &[(&str, &str, &str, &str)] = &[
    ("DE", "Berlin", "10115", "GmbH"),
    ("DE", "München", "80331", "GmbH"),
    ("FR", "Paris", "75002", "SAS"),
    ("FR", "Lyon", "69002", "SAS"),
    ("NL", "Amsterdam", "1012 JS", "B.V."),
    ("IE", "Dublin", "D02 X285", "Ltd"),
    ("ES", "Madrid", "28013", "S.L."),
    ("IT", "Milano", "20121", "S.r.l."),
    ("SE", "Stockholm", "111 51", "AB"),
    ("BE", "Bruxelles", "1000", "SA"),
    ("AT", "Wien", "1010", "GmbH"),
    ("PL", "Warszawa", "00-001", "Sp. z o.o."),
];
pub const UK: &[(&str, &str)] =
    &[("London", "EC1A 1BB"), ("Manchester", "M1 1AE"), ("Edinburgh", "EH1 1YZ"), ("Bristol", "BS1 4DJ")];
pub const NAMES: &[&str] = &[
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Tyrell",
    "Cyberdyne",
    "Wonka",
    "Aperture",
    "Massive",
    "Pied Piper",
    "Dunder",
    "Sterling",
    "Prestige",
    "Oscorp",
    "Gringotts",
];
pub const KINDS: &[&str] = &[
    "Analytics",
    "Labs",
    "Systems",
    "Logistics",
    "Foods",
    "Media",
    "Robotics",
    "Health",
    "Energy",
    "Capital",
    "Studios",
    "Networks",
];
pub const STREETS: &[&str] =
    &["Main Street", "High Street", "Market Street", "King Street", "Park Avenue", "Church Road", "Station Road"];
pub const PRODUCTS: &[(&str, i64, i64)] = &[
    ("Platform subscription", 199, 4_999),
    ("Seats", 10, 60),
    ("API calls (per 1,000)", 1, 5),
    ("Onboarding services", 500, 5_000),
    ("Premium support", 99, 999),
    ("Data storage (per GB)", 1, 3),
    ("Training workshop", 750, 3_000),
    ("Hardware security key", 25, 80),
];

pub const FIRST_NAMES: &[&str] =
    &["Ada", "Ben", "Chloé", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Lars", "Maya", "Noor"];
pub const LAST_NAMES: &[&str] =
    &["Okafor", "Schmidt", "Dubois", "Patel", "García", "Rossi", "Nilsson", "Kowalski", "Murphy", "Tanaka", "Silva"];
pub const SEGMENTS: &[&str] = &["SMB", "Mid-market", "Enterprise"];
