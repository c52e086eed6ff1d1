mod sim;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("sim")
        && let Err(e) = sim::run(&args[2..]).await
    {
        eprintln!("{e}");
        std::process::exit(2);
    }
}
