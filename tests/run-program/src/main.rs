//! A WASI command the end-to-end tests run with the `run` tool. Its first argument says what to
//! do: `hello NAME` (print to stdout and stderr), `write PATH TEXT` (write a file), `mv FROM TO`,
//! `rm PATH`, `fill PATH` (write 1 MiB chunks until a write fails, and say why), `flood N`
//! (print N lines), `exit CODE`, `spin` (loop forever), `hoard` (allocate without bound),
//! `escape` (read outside `/`, open a socket, and say what happened).

use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).map_or("", String::as_str);
    match arg(1) {
        "hello" => {
            println!("hello, {}", arg(2));
            eprintln!("to stderr");
            println!("PWD={}", std::env::var("PWD").unwrap_or_default());
        }
        "write" => {
            let path = std::path::Path::new(arg(2));
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("mkdir");
            }
            std::fs::write(path, arg(3)).expect("write");
            println!("wrote {}", arg(2));
        }
        "mv" => std::fs::rename(arg(2), arg(3)).expect("rename"),
        "rm" => std::fs::remove_file(arg(2)).expect("remove"),
        "fill" => {
            let mut file = std::fs::File::create(arg(2)).expect("create");
            let chunk = vec![b'x'; 1 << 20];
            for written in 0.. {
                if let Err(e) = file.write_all(&chunk).and_then(|()| file.flush()) {
                    println!("stopped after {written} MiB: {e}");
                    break;
                }
            }
        }
        "flood" => {
            for i in 0..arg(2).parse().unwrap_or(0) {
                println!("line {i}");
            }
        }
        "exit" => std::process::exit(arg(2).parse().unwrap_or(2)),
        "spin" => {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        "hoard" => {
            let mut kept: Vec<Vec<u8>> = Vec::new();
            loop {
                kept.push(vec![1; 1 << 20]);
                std::hint::black_box(&kept);
            }
        }
        "escape" => {
            match std::fs::read_to_string("/../../etc/passwd") {
                Ok(_) => println!("read outside: allowed"),
                Err(e) => println!("read outside: refused ({e})"),
            }
            match std::net::TcpStream::connect("127.0.0.1:9") {
                Ok(_) => println!("socket: allowed"),
                Err(e) => println!("socket: refused ({e})"),
            }
        }
        other => {
            let _ = writeln!(std::io::stderr(), "unknown command: {other}");
            std::process::exit(64);
        }
    }
}
