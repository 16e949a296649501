#include <stdio.h>

int main(void) {
	int total = 0;
	printf("%d\n", totl);
	return undeclared_helper(total);
}
