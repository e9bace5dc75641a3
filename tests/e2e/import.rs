//! Starting a session from your code: `POST /session/new` with a tar or tar.gz body, or with a
//! repository URL cloned over smart HTTP from stock `git http-backend`.

mod backend;
