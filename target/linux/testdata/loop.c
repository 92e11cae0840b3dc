/* loop: calls tick() for ever; the tests break on it and step in it. */
volatile long counter;

__attribute__((noinline)) void tick(void) { counter++; }

int main(void) {
	for (;;)
		tick();
}
