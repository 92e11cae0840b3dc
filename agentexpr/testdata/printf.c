/* printf: the C library's printf, as gdbserver calls it for an agent
 * printf (gdbserver/ax.cc, ax_printf): one conversion and one argument
 * of the C type gdbserver passes. Each line of stdin is
 * CLASS<TAB>VALUE<TAB>FORMAT: CLASS i (int), l (long), q (long long),
 * z (size_t) with VALUE in hex, or s (a string) with VALUE the string.
 * Each result is followed by a 0x1e byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-security"

int main(void)
{
	static char line[1 << 16];

	while (fgets(line, sizeof line, stdin)) {
		char *val, *fmt;
		unsigned long long v;

		line[strcspn(line, "\n")] = 0;
		val = strchr(line, '\t');
		if (!val)
			return 2;
		*val++ = 0;
		fmt = strchr(val, '\t');
		if (!fmt)
			return 2;
		*fmt++ = 0;
		v = strtoull(val, NULL, 16);
		switch (line[0]) {
		case 'i':
			printf(fmt, (int)v);
			break;
		case 'l':
			printf(fmt, (long)v);
			break;
		case 'q':
			printf(fmt, (long long)v);
			break;
		case 'z':
			printf(fmt, (size_t)v);
			break;
		case 's':
			printf(fmt, val);
			break;
		default:
			return 2;
		}
		putchar(0x1e);
	}
	return 0;
}
