/* execs: execs itself once (argv[1] "again"), then calls after_exec and
   exits 0: for catch exec and breakpoints across an exec. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
__attribute__((noinline)) int after_exec(int n) { return n + 1; }
int main(int argc, char **argv) {
	if (argc == 1) {
		execl("/proc/self/exe", argv[0], "again", (char *)0);
		return 2;
	}
	printf("after exec %d\n", after_exec(argc));
	return 0;
}
