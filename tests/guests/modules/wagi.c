// A WAGI (CGI over WASI) program in C with wasi-libc, built as a wasm32-wasi command.
// The path below the route (PATH_INFO) picks what it does:
//
//   /redirect    `location: /elsewhere` only (the runtime answers 302)
//   /status      `status: 418 I'm a teapot` and a text body
//   /garbage     output without CGI headers (the runtime answers 500)
//   /fail        exits with status 3 (the runtime answers 500)
//   anything     200 text/plain: argv, then selected CGI variables, then stdin
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *VARS[] = {
    "REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "SCRIPT_NAME", "X_FULL_URL",
    "X_MATCHED_ROUTE", "X_COMPONENT_ROUTE", "SERVER_NAME", "SERVER_PORT",
    "SERVER_PROTOCOL", "GATEWAY_INTERFACE", "CONTENT_LENGTH", "CONTENT_TYPE",
    "REMOTE_ADDR", "HTTP_X_CUSTOM", "HTTP_AUTHORIZATION", "X_PATH_MATCH_NAME", "WHO",
};

int main(int argc, char **argv) {
  const char *path = getenv("PATH_INFO");
  if (!path) path = "";
  if (strcmp(path, "/redirect") == 0) {
    printf("location: /elsewhere\n\n");
    return 0;
  }
  if (strcmp(path, "/status") == 0) {
    printf("status: 418 I'm a teapot\ncontent-type: text/plain\n\nshort and stout\n");
    return 0;
  }
  if (strcmp(path, "/garbage") == 0) {
    printf("this is not a CGI response\n");
    return 0;
  }
  if (strcmp(path, "/fail") == 0) {
    printf("content-type: text/plain\n\npartial");
    return 3;
  }
  printf("content-type: text/plain\nx-wagi: yes\n\n");
  for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
  for (size_t i = 0; i < sizeof VARS / sizeof *VARS; i++) {
    const char *v = getenv(VARS[i]);
    printf("%s=%s\n", VARS[i], v ? v : "(unset)");
  }
  printf("stdin=");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) fwrite(buf, 1, n, stdout);
  printf("\n");
  return 0;
}
