/* bigwatch: a 1 MiB array, for a watchpoint far longer than the debug
 * registers can hold. After after_watch() the program stores 1, 2, 3, 4
 * at four places 300000 bytes apart, then calls done(). */
char big[1 << 20];

void after_watch(void)
{
}

void done(void)
{
}

int main(void)
{
	after_watch();
	for (int i = 0; i < 4; i++)
		((volatile char *)big)[i * 300000] = i + 1;
	done();
	return 0;
}
