/* A tiny program linked for macOS by ld64.lld, which signs it ad hoc. */
static volatile int answer = 42;

int main(void) { return answer - 42; }
