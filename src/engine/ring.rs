//! Fixed-capacity ring buffer: the addon's history never grows with uptime.

/// A ring buffer holding at most `capacity` items; pushing into a full ring
/// drops the oldest item.
#[derive(Debug, Clone)]
pub struct Ring<T> {
    items: Vec<T>,
    capacity: usize,
    /// Index of the oldest item once the ring is full.
    head: usize,
}

impl<T> Ring<T> {
    /// A ring of at least one slot. Memory grows with use up to `capacity` items and
    /// never beyond; `clear` gives it back.
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Ring {
            items: Vec::new(),
            capacity,
            head: 0,
        }
    }

    pub fn push(&mut self, item: T) {
        if self.items.len() < self.capacity {
            if self.items.len() == self.items.capacity() {
                // Grow geometrically, but never past the ring's capacity.
                let extra = self
                    .items
                    .len()
                    .max(8)
                    .min(self.capacity - self.items.len());
                self.items.reserve_exact(extra);
            }
            self.items.push(item);
        } else {
            self.items[self.head] = item;
            self.head = (self.head + 1) % self.capacity;
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Drops every item and releases the memory.
    pub fn clear(&mut self) {
        self.items = Vec::new();
        self.head = 0;
    }

    /// Bytes held by the items' storage.
    pub fn heap_bytes(&self) -> usize {
        self.items.capacity() * std::mem::size_of::<T>()
    }

    /// Items from oldest to newest.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + '_ {
        let (newer, older) = self.items.split_at(self.head);
        older.iter().chain(newer.iter())
    }

    pub fn last(&self) -> Option<&T> {
        if self.items.is_empty() {
            None
        } else if self.head == 0 {
            self.items.last()
        } else {
            self.items.get(self.head - 1)
        }
    }

    pub fn first(&self) -> Option<&T> {
        if self.items.len() < self.capacity {
            self.items.first()
        } else {
            self.items.get(self.head)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_items_in_order() {
        let mut r = Ring::new(3);
        assert!(r.is_empty());
        assert_eq!(r.last(), None);
        for i in 0..5 {
            r.push(i);
        }
        assert_eq!(r.len(), 3);
        assert_eq!(r.iter().copied().collect::<Vec<_>>(), vec![2, 3, 4]);
        assert_eq!(r.first(), Some(&2));
        assert_eq!(r.last(), Some(&4));
    }

    #[test]
    fn partial_ring_and_clear() {
        let mut r = Ring::new(4);
        r.push(1);
        r.push(2);
        assert_eq!(r.iter().copied().collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(r.first(), Some(&1));
        assert_eq!(r.last(), Some(&2));
        r.clear();
        assert!(r.is_empty());
        assert_eq!(r.heap_bytes(), 0);
        r.push(9);
        assert_eq!(r.last(), Some(&9));
    }

    #[test]
    fn zero_capacity_means_one_slot() {
        let mut r = Ring::new(0);
        r.push(1);
        r.push(2);
        assert_eq!(r.capacity(), 1);
        assert_eq!(r.iter().copied().collect::<Vec<_>>(), vec![2]);
    }

    #[test]
    fn capacity_never_grows() {
        let mut r = Ring::new(8);
        for i in 0..10_000u64 {
            r.push(i);
        }
        assert_eq!(r.len(), 8);
        assert!(r.items.capacity() <= 8);
        assert_eq!(
            r.iter().copied().collect::<Vec<_>>(),
            (9992..10_000).collect::<Vec<_>>()
        );
    }
}
