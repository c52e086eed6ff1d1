//! The tax engine: address → jurisdictions → dated rates → taxability → exemptions → registrations →
//! rounding. Pure, no I/O.
