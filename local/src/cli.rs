//! The `sphere-local` command line, parsed by clap: every subcommand's flags, typed, with `--help`. A misspelled
//! or unknown flag, a missing value or a value of the wrong type is an error that names it (exit 2), never ignored.

use crate::bench::{SyncBenchOptions, TaxBenchOptions};
use crate::bench_exposure::ExposureBenchOptions;
use crate::bench_webhooks::WebhookBenchOptions;
use crate::sim::SimArgs;
use crate::{demo, serve};
use clap::{Arg, ArgAction, ArgMatches, Command, value_parser};
use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;

/// One parsed invocation.
pub enum Cli {
    Demo(demo::Options),
    Serve(serve::Options),
    Sim(SimArgs),
    BenchTax(TaxBenchOptions),
    BenchSync(SyncBenchOptions),
    BenchExposure(ExposureBenchOptions),
    BenchWebhooks(WebhookBenchOptions),
}

fn value<T: Clone + Send + Sync + 'static>(m: &ArgMatches, id: &str) -> Option<T> {
    m.get_one::<T>(id).cloned()
}

fn required<T: Clone + Send + Sync + 'static>(m: &ArgMatches, id: &str) -> T {
    // Every caller names an argument declared with a default value, so clap always supplies one.
    m.get_one::<T>(id).cloned().unwrap_or_else(|| unreachable!("{id} has a default"))
}

fn opt(name: &'static str, value_name: &'static str, help: &'static str) -> Arg {
    Arg::new(name).long(name).value_name(value_name).help(help)
}

fn switch(name: &'static str, help: &'static str) -> Arg {
    Arg::new(name).long(name).action(ArgAction::SetTrue).help(help)
}

/// The command tree (also what `--help` prints).
pub fn command() -> Command {
    Command::new("sphere-local")
        .about("The Sequence ⇄ Sphere connector on a laptop: the Lambda handlers over an embedded store")
        .subcommand_required(true)
        .arg_required_else_help(true)
        .subcommand(
            Command::new("demo")
                .about("Both parts of the setup guide, end to end, against the simulator")
                .arg(switch("keep", "keep the data directory afterwards"))
                .arg(
                    opt("data-dir", "DIR", "where the store lives (default: a temporary directory)")
                        .value_parser(value_parser!(PathBuf)),
                ),
        )
        .subcommand(
            Command::new("serve")
                .about("The console, the console API and the tax API on one address")
                .arg(opt("addr", "ADDR", "listen address").default_value("127.0.0.1:3000"))
                .arg(
                    opt("data-dir", "DIR", "where the store lives")
                        .default_value("./.sphere-local")
                        .value_parser(value_parser!(PathBuf)),
                )
                .arg(switch("with-sim", "run the Sequence simulator in-process and point every connection at it"))
                .arg(opt("sequence-sandbox-url", "URL", "Sequence sandbox base URL"))
                .arg(opt("sequence-production-url", "URL", "Sequence production base URL")),
        )
        .subcommand(
            Command::new("sim")
                .about("The Sequence simulator alone (sandbox + production)")
                .arg(
                    opt("addr", "ADDR", "listen address")
                        .default_value("127.0.0.1:4010")
                        .value_parser(value_parser!(SocketAddr)),
                )
                .arg(
                    opt("seed", "N", "random seed of the seeded accounts")
                        .default_value("1")
                        .value_parser(value_parser!(u64)),
                )
                .arg(opt("credentials-out", "PATH", "write both accounts' credentials here (mode 0600)"))
                .arg(
                    opt("customers", "N", "seeded customers per account [default: 300]")
                        .value_parser(value_parser!(u32)),
                )
                .arg(
                    opt("invoices", "N", "seeded invoices per account [default: 900]").value_parser(value_parser!(u32)),
                )
                .arg(
                    opt("scale-credit-notes", "N", "N more credit notes with lines in the sandbox")
                        .value_parser(value_parser!(u32)),
                )
                .arg(switch("no-hard-cases", "leave out the sandbox's hard cases (ids at /_sim/hard-cases)"))
                .arg(switch("empty", "no seeded data at all").conflicts_with_all([
                    "customers",
                    "invoices",
                    "scale-credit-notes",
                    "no-hard-cases",
                ]))
                .arg(
                    opt("rate-limit", "N", "requests per key per minute")
                        .default_value("1500")
                        .value_parser(value_parser!(u32)),
                )
                .arg(switch("no-rate-limit", "no rate limit")),
        )
        .subcommand(
            Command::new("bench-tax")
                .about("Tax endpoint latency over loopback HTTP")
                .arg(
                    opt("seconds", "S", "seconds per concurrency level")
                        .default_value("10")
                        .value_parser(value_parser!(u64)),
                )
                .arg(
                    opt("soak-seconds", "S", "seconds of the memory soak")
                        .default_value("60")
                        .value_parser(value_parser!(u64)),
                )
                .arg(
                    opt("repeat", "N", "runs of the highest level in a row")
                        .default_value("5")
                        .value_parser(value_parser!(usize)),
                )
                .arg(
                    opt("concurrency", "LIST", "comma-separated levels")
                        .default_value("1,16,64")
                        .value_delimiter(',')
                        .value_parser(value_parser!(usize)),
                ),
        )
        .subcommand(
            Command::new("bench-sync")
                .about("Sync throughput against the simulator")
                .arg(
                    opt("invoices", "N", "invoices of the large run")
                        .default_value("10000")
                        .value_parser(value_parser!(u32)),
                )
                .arg(
                    opt("limited-invoices", "N", "invoices of the rate-limited run")
                        .default_value("150")
                        .value_parser(value_parser!(u32)),
                )
                .arg(
                    opt("scale-credit-notes", "N", "credit notes of the scale run")
                        .default_value("20000")
                        .value_parser(value_parser!(u32)),
                )
                .arg(
                    opt("invocation-secs", "S", "seconds per simulated invocation")
                        .default_value("30")
                        .value_parser(value_parser!(i64)),
                ),
        )
        .subcommand(
            Command::new("bench-exposure")
                .about("Exposure and filing reports over a ledger of a million invoices (embedded store)")
                .arg(
                    opt("invoices", "N", "documents in the ledger")
                        .default_value("1000000")
                        .value_parser(value_parser!(u32)),
                )
                .arg(
                    opt("runs", "N", "timed runs of each report")
                        .default_value("20")
                        .value_parser(value_parser!(usize)),
                ),
        )
        .subcommand(
            Command::new("bench-webhooks")
                .about("Webhook-to-ledger latency on the local server (simulator over loopback)")
                .arg(
                    opt("changes", "N", "invoices voided, one at a time")
                        .default_value("50")
                        .value_parser(value_parser!(usize)),
                ),
        )
}

/// Parses `args` (the program name first).
pub fn parse<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let m = command().try_get_matches_from(args)?;
    Ok(match m.subcommand() {
        Some(("demo", m)) => Cli::Demo(demo::Options {
            data_dir: value(m, "data-dir"),
            keep: m.get_flag("keep"),
            ..demo::Options::default()
        }),
        Some(("serve", m)) => Cli::Serve(serve::Options {
            addr: required(m, "addr"),
            data_dir: required(m, "data-dir"),
            with_sim: m.get_flag("with-sim"),
            sequence_sandbox_url: value(m, "sequence-sandbox-url"),
            sequence_production_url: value(m, "sequence-production-url"),
        }),
        Some(("sim", m)) => Cli::Sim(sim_args(m)),
        Some(("bench-tax", m)) => Cli::BenchTax(TaxBenchOptions {
            seconds: required(m, "seconds"),
            soak_seconds: required(m, "soak-seconds"),
            repeat: required(m, "repeat"),
            concurrency: m.get_many::<usize>("concurrency").map(|v| v.copied().collect()).unwrap_or_default(),
        }),
        Some(("bench-sync", m)) => Cli::BenchSync(SyncBenchOptions {
            invoices: required(m, "invoices"),
            limited_invoices: required(m, "limited-invoices"),
            scale_credit_notes: required(m, "scale-credit-notes"),
            invocation_secs: required(m, "invocation-secs"),
        }),
        Some(("bench-exposure", m)) => {
            Cli::BenchExposure(ExposureBenchOptions { invoices: required(m, "invoices"), runs: required(m, "runs") })
        }
        Some(("bench-webhooks", m)) => Cli::BenchWebhooks(WebhookBenchOptions { changes: required(m, "changes") }),
        // `subcommand_required` makes clap refuse anything else before this point.
        _ => return Err(command().error(clap::error::ErrorKind::MissingSubcommand, "a subcommand is required")),
    })
}

fn sim_args(m: &ArgMatches) -> SimArgs {
    let spec = (!m.get_flag("empty")).then(|| {
        let mut spec = sequence_sim::SeedSpec::default();
        if let Some(n) = value(m, "customers") {
            spec.customers = n;
        }
        if let Some(n) = value(m, "invoices") {
            spec.invoices = n;
        }
        if let Some(n) = value(m, "scale-credit-notes") {
            spec.scale_credit_notes = n;
        }
        spec.hard_cases = !m.get_flag("no-hard-cases");
        spec
    });
    SimArgs {
        addr: required(m, "addr"),
        seed: required(m, "seed"),
        credentials_out: value(m, "credentials-out"),
        spec,
        rate_limit: (!m.get_flag("no-rate-limit")).then(|| required(m, "rate-limit")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(args: &[&str]) -> Result<Cli, String> {
        parse(std::iter::once("sphere-local").chain(args.iter().copied())).map_err(|e| e.to_string())
    }

    #[test]
    fn the_tree_is_well_formed() {
        command().debug_assert();
    }

    #[test]
    fn flags_parse_into_their_types() {
        let Ok(Cli::Sim(a)) = cli(&["sim", "--addr", "127.0.0.1:0", "--seed", "7", "--empty"]) else { panic!() };
        assert_eq!(a.seed, 7);
        assert!(a.spec.is_none());
        let Ok(Cli::Sim(a)) = cli(&["sim", "--scale-credit-notes", "20000", "--no-hard-cases"]) else { panic!() };
        let spec = a.spec.unwrap();
        assert_eq!((spec.scale_credit_notes, spec.hard_cases), (20_000, false));
        assert_eq!(a.rate_limit, Some(1_500));
        let Ok(Cli::BenchTax(b)) = cli(&["bench-tax", "--concurrency", "1,8"]) else { panic!() };
        assert_eq!((b.concurrency, b.seconds), (vec![1, 8], 10));
        let Ok(Cli::Serve(s)) = cli(&["serve", "--with-sim"]) else { panic!() };
        assert_eq!((s.addr.as_str(), s.with_sim), ("127.0.0.1:3000", true));
        let Ok(Cli::Demo(d)) = cli(&["demo", "--keep"]) else { panic!() };
        assert!(d.keep && d.data_dir.is_none());
    }

    #[test]
    fn a_misspelled_flag_or_bad_value_is_an_error_naming_it() {
        for (args, needle) in [
            (&["serve", "--with-simm"][..], "--with-simm"),
            (&["demo", "--kep"][..], "--kep"),
            (&["sim", "--seed"][..], "--seed"),
            (&["sim", "--seed", "x"][..], "x"),
            (&["bench-tax", "--seconds", "-1"][..], "-1"),
            (&["bench-tax", "--concurrency", "1,x"][..], "x"),
            (&["sim", "--empty", "--customers", "3"][..], "--customers"),
            (&["nonsense"][..], "nonsense"),
        ] {
            let e = cli(args).err().unwrap_or_else(|| panic!("{args:?} accepted"));
            assert!(e.contains(needle), "{args:?}: {e}");
        }
        assert!(cli(&["sim", "--help"]).err().is_some_and(|h| h.contains("--scale-credit-notes")));
    }
}
